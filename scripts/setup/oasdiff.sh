#!/usr/bin/env bash
# Installs the pinned oasdiff (an OpenAPI diff and breaking-change checker) from the Go module proxy
# into ~/.cache/maestro/bin (or $GOBIN when set). `maestro sig contract-check` and the SIG contract
# tests run it to compare each schemas/sig OpenAPI document with the same one at the last release
# tag (or main). Chosen because it is maintained, understands OpenAPI 3.1 and classifies each change
# as breaking or not; a hand-written diff would miss most of its ~300 rules. Idempotent: when an
# oasdiff of the pinned version is already there (or at ~/go/bin/oasdiff) it is reused. Prints the
# binary's path on the last line.
set -euo pipefail
source "$(dirname "$0")/lib/go-tool.sh"

OASDIFF_VERSION="1.38.0"

# A `go install` build reports "oasdiff version main"; the module version is in its build information.
has_version() {
  local out
  [ -x "$1" ] && command -v go >/dev/null && out="$(go version -m "$1" 2>/dev/null)" &&
    grep -qE "^[[:space:]]+mod[[:space:]]+github.com/oasdiff/oasdiff[[:space:]]+v$OASDIFF_VERSION([[:space:]]|$)" <<<"$out"
}

install_go_tool oasdiff "$OASDIFF_VERSION" "github.com/oasdiff/oasdiff@v$OASDIFF_VERSION" has_version
