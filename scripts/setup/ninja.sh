#!/usr/bin/env bash
# Installs ninja (Debian ninja-build), the peer bench/run compares `maestro run` with.
# Idempotent: exits at once when ninja is already on PATH.
set -euo pipefail
if command -v ninja >/dev/null; then
  echo "ninja.sh: $(command -v ninja) $(ninja --version)"
  exit 0
fi
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
sudo_if_needed apt-get install -y -o DPkg::Lock::Timeout=600 ninja-build
ninja --version
