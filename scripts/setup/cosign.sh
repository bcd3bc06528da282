#!/usr/bin/env bash
# Installs the pinned cosign (Sigstore's reference client) from the Go module proxy into
# ~/.cache/maestro/bin (or $GOBIN when set). The tests use it as an independent verifier of
# Maestro's receipts, approval attestations and disclosure bundles: a client Maestro did not write.
# Idempotent: when a cosign of the pinned version is already there (or at ~/go/bin/cosign, where a
# plain `go install` puts it) it is reused. Prints the binary's path on the last line.
set -euo pipefail

COSIGN_VERSION="2.6.1"
bin_dir="${GOBIN:-$HOME/.cache/maestro/bin}"
mkdir -p "$bin_dir"

# Read the whole output first: with pipefail, `cosign version | grep -q` can fail on SIGPIPE.
has_version() {
  local out
  [ -x "$1" ] && out="$("$1" version --json 2>/dev/null)" && grep -q "\"gitVersion\": *\"v$COSIGN_VERSION\"" <<<"$out"
}

if has_version "$bin_dir/cosign"; then
  echo "cosign.sh: cosign $COSIGN_VERSION already at $bin_dir/cosign" >&2
  echo "$bin_dir/cosign"
  exit 0
fi
if has_version "$HOME/go/bin/cosign"; then
  ln -sf "$HOME/go/bin/cosign" "$bin_dir/cosign"
  echo "cosign.sh: linked existing cosign $COSIGN_VERSION from ~/go/bin" >&2
  echo "$bin_dir/cosign"
  exit 0
fi

command -v go >/dev/null || { echo "cosign.sh: Go is required (https://go.dev/dl)" >&2; exit 1; }
echo "cosign.sh: building cosign $COSIGN_VERSION (go install)" >&2
GOBIN="$bin_dir" GOFLAGS="-buildvcs=false" nice -n 10 \
  go install "github.com/sigstore/cosign/v2/cmd/cosign@v$COSIGN_VERSION"
has_version "$bin_dir/cosign" || { echo "cosign.sh: installed cosign does not report version $COSIGN_VERSION" >&2; exit 1; }
echo "$bin_dir/cosign"
