#!/usr/bin/env bash
# Builds the tests' OCI registry (scripts/setup/oci-registry/: go-containerregistry's registry, the
# one behind `crane registry serve`, with the OCI 1.1 referrers API on) from the Go module proxy
# into ~/.cache/maestro/bin/maestro-oci-registry (or $GOBIN). Images are built with Podman and
# pushed to it; Maestro and cosign store and read image signatures there as referrers
# (test/setup/oci-registry.ts starts it). Debian's docker-registry 2.8 has no referrers API, and
# `crane registry serve` does not turn it on, hence this small wrapper module.
# Idempotent: a binary that reports the pinned version is reused. Prints its path on the last line.
set -euo pipefail
source "$(dirname "$0")/lib/go-tool.sh"

# Must match `version` in oci-registry/main.go (bumped with it).
REGISTRY_VERSION="maestro-oci-registry r1 (go-containerregistry v0.22.1)"

has_version() {
  local out
  [ -x "$1" ] && out="$("$1" --version 2>/dev/null)" && [ "$out" = "$REGISTRY_VERSION" ]
}

cd "$(dirname "$0")/oci-registry"
install_go_tool maestro-oci-registry "$REGISTRY_VERSION" . has_version
