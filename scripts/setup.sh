#!/usr/bin/env bash
# Makes this machine ready for `npm test`: system packages first, then every other idempotent
# script in scripts/setup/ (each caches its build under ~/.cache/maestro and returns at once when
# the cache is warm). `npm test` runs this first (the `pretest` script).
set -euo pipefail
cd "$(dirname "$0")/setup"
if [ ! -x ../../node_modules/.bin/node ]; then
  echo "setup: node_modules is missing; run \`npm ci\` first (it brings Node 24), then this again" >&2
  exit 2
fi
bash system-packages.sh
for script in *.sh; do
  [ "$script" = system-packages.sh ] && continue
  started=$(date +%s)
  bash "$script" >&2
  echo "setup: $script ($(( $(date +%s) - started ))s)" >&2
done
