#!/usr/bin/env bash
# Installs the pinned Open Policy Agent CLI (used to compile Rego to wasm, and by `maestro policy
# test`) from the Go module proxy into ~/.cache/maestro/bin (or $GOBIN when set).
# Idempotent: when an opa of the pinned version is already there (or at ~/go/bin/opa, where a plain
# `go install` puts it) it is reused. Prints the binary's path on the last line.
set -euo pipefail

OPA_VERSION="1.22.2"
bin_dir="${GOBIN:-$HOME/.cache/maestro/bin}"
mkdir -p "$bin_dir"

# Read the whole output first: with pipefail, `opa version | head -1` can fail on SIGPIPE.
has_version() {
  local out
  [ -x "$1" ] && out="$("$1" version 2>/dev/null)" && grep -qx "Version: $OPA_VERSION" <<<"$out"
}

if has_version "$bin_dir/opa"; then
  echo "opa.sh: opa $OPA_VERSION already at $bin_dir/opa" >&2
  echo "$bin_dir/opa"
  exit 0
fi
if has_version "$HOME/go/bin/opa"; then
  ln -sf "$HOME/go/bin/opa" "$bin_dir/opa"
  echo "opa.sh: linked existing opa $OPA_VERSION from ~/go/bin" >&2
  echo "$bin_dir/opa"
  exit 0
fi

command -v go >/dev/null || { echo "opa.sh: Go is required (https://go.dev/dl)" >&2; exit 1; }
echo "opa.sh: building opa $OPA_VERSION (go install)" >&2
GOBIN="$bin_dir" GOFLAGS="-buildvcs=false" nice -n 10 go install "github.com/open-policy-agent/opa@v$OPA_VERSION"
has_version "$bin_dir/opa" || { echo "opa.sh: installed opa does not report version $OPA_VERSION" >&2; exit 1; }
echo "$bin_dir/opa"
