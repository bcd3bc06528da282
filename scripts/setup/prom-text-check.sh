#!/usr/bin/env bash
# Builds test/tools/prom-text-check (Prometheus's own text-format parser, which the metrics test
# reads GET /metrics with) into ~/.cache/maestro/bin, under the name test/helpers/prom-text.ts
# gives it (one copy of that logic: the helper's). Returns at once when it is built.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v go >/dev/null || { echo "prom-text-check.sh: Go is required (https://go.dev/dl)" >&2; exit 1; }
node_modules/.bin/node --input-type=module -e \
  "const m = await import('./test/helpers/prom-text.ts'); console.error('prom-text-check.sh: ' + m.promTextChecker());"
