#!/usr/bin/env bash
# Installs the pinned Open Policy Agent CLI (used to compile Rego to wasm, and by `maestro policy
# test`) from the Go module proxy into ~/.cache/maestro/bin (or $GOBIN when set).
# Idempotent: when an opa of the pinned version is already there (or at ~/go/bin/opa, where a plain
# `go install` puts it) it is reused. Prints the binary's path on the last line.
set -euo pipefail
source "$(dirname "$0")/lib/go-tool.sh"

OPA_VERSION="1.22.2"

# Read the whole output first: with pipefail, `opa version | head -1` can fail on SIGPIPE.
has_version() {
  local out
  [ -x "$1" ] && out="$("$1" version 2>/dev/null)" && grep -qx "Version: $OPA_VERSION" <<<"$out"
}

install_go_tool opa "$OPA_VERSION" "github.com/open-policy-agent/opa@v$OPA_VERSION" has_version
