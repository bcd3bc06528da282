#!/usr/bin/env bash
# Installs the pinned gofakes3 (an S3-compatible server) from the Go module proxy into
# ~/.cache/maestro/bin (or $GOBIN when set). The tests start it as its own process
# (test/setup/s3-server.ts) so the S3 artifact store is exercised over real HTTP with the real
# AWS SDK, not an in-process fake. Chosen over versitygw: one small module, an in-memory backend,
# a listen address of port 0 that it reports. Idempotent: when a gofakes3 of the pinned version is
# already there (or at ~/go/bin/gofakes3) it is reused. Prints the binary's path on the last line.
set -euo pipefail
source "$(dirname "$0")/lib/go-tool.sh"

GOFAKES3_VERSION="1.2.0"

# gofakes3 has no version flag; the module version is in the binary's build information.
has_version() {
  local out
  [ -x "$1" ] && command -v go >/dev/null && out="$(go version -m "$1" 2>/dev/null)" &&
    grep -qE "^[[:space:]]+mod[[:space:]]+github.com/johannesboyne/gofakes3[[:space:]]+v$GOFAKES3_VERSION([[:space:]]|$)" <<<"$out"
}

install_go_tool gofakes3 "$GOFAKES3_VERSION" "github.com/johannesboyne/gofakes3/cmd/gofakes3@v$GOFAKES3_VERSION" has_version
