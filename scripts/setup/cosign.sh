#!/usr/bin/env bash
# Installs the pinned cosign (Sigstore's reference client) from the Go module proxy into
# ~/.cache/maestro/bin (or $GOBIN when set). The tests use it as an independent verifier of
# Maestro's receipts, approval attestations and disclosure bundles: a client Maestro did not write.
# Idempotent: when a cosign of the pinned version is already there (or at ~/go/bin/cosign, where a
# plain `go install` puts it) it is reused. Prints the binary's path on the last line.
set -euo pipefail
source "$(dirname "$0")/lib/go-tool.sh"

COSIGN_VERSION="2.6.1"

# Read the whole output first: with pipefail, `cosign version | grep -q` can fail on SIGPIPE.
has_version() {
  local out
  [ -x "$1" ] && out="$("$1" version --json 2>/dev/null)" && grep -q "\"gitVersion\": *\"v$COSIGN_VERSION\"" <<<"$out"
}

install_go_tool cosign "$COSIGN_VERSION" "github.com/sigstore/cosign/v2/cmd/cosign@v$COSIGN_VERSION" has_version
