#!/usr/bin/env bash
# Installs the pinned AWS Lambda Runtime Interface Emulator (aws-lambda-rie: the Lambda Invoke and
# Runtime APIs in one small process) from the Go module proxy into ~/.cache/maestro/bin (or $GOBIN).
# The serverless runner's tests (test/setup/lambda-emulator.ts) run a small function under it.
# A few dependencies only: about a minute to build on two cores. Idempotent: an aws-lambda-rie
# built from the pinned module version is reused. Prints the binary's path on the last line.
set -euo pipefail
source "$(dirname "$0")/lib/go-tool.sh"

# The module has no tagged release on the proxy; this is the newest pseudo-version it serves.
RIE_VERSION="v0.0.0-20261030222936-bef5c4ba774d"
RIE_MODULE="github.com/aws/aws-lambda-runtime-interface-emulator"

# The binary reports no version of its own; the module version is in its build information.
has_version() {
  local out
  [ -x "$1" ] && command -v go >/dev/null && out="$(go version -m "$1" 2>/dev/null)" &&
    grep -qE "^[[:space:]]+mod[[:space:]]+$RIE_MODULE[[:space:]]+$RIE_VERSION([[:space:]]|$)" <<<"$out"
}

install_go_tool aws-lambda-rie "$RIE_VERSION" "$RIE_MODULE/cmd/aws-lambda-rie@$RIE_VERSION" has_version
