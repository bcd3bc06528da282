#!/usr/bin/env bash
# Debian packages the tests and benchmarks use: git (test repositories, git http-backend), python3
# and python3-venv (the Python SDK's tools and a Python task's virtual environment: under /usr, so
# the local runner's sandbox sees the interpreter), ninja (the bench peer), gcc (the local
# runner's launcher), bubblewrap (the local runner's sandbox), Podman with runc (container
# runner), busybox-static (the base of locally built images) and postgresql (the PostgreSQL
# store's tests start private servers with its initdb/pg_ctl; the package's own cluster is not
# used), chromium (the console's browser tests), nats-server (tasks/nats's tests start private
# servers, JetStream on; the package's own service is not used) and prometheus (promtool checks
# and unit-tests ops/prometheus/; test/observability/prometheus.test.ts starts a private server
# that scrapes a real `maestro server`; the package's own service is not used), and
# openjdk-17-jre-headless with maven (scripts/setup/kafka.sh fetches an Apache Kafka broker's jars
# from Maven Central; tasks/kafka's tests run it on this Java).
# Idempotent and quick when everything is installed; needs root (or sudo) otherwise.
set -euo pipefail
packages=(git python3 python3-venv ninja-build gcc libc6-dev bubblewrap podman runc fuse-overlayfs slirp4netns uidmap busybox-static postgresql chromium nats-server prometheus openjdk-17-jre-headless maven)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -eq 0 ] && { echo "system-packages.sh: all present"; exit 0; }
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "system-packages.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
