#!/usr/bin/env bash
# The local runner's fast spawn path is a small C program (runners/local/launcher/launcher.c)
# compiled with the system C compiler into ~/.cache/maestro/launcher/ on first use. This script
# makes sure a compiler exists (Debian gcc) and builds the launcher ahead of time, so the first
# `maestro run` does not pay the compile. Idempotent: the binary is named by the source's hash.
# Without a compiler the runner still works, through child_process (slower; see the README).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if ! command -v cc >/dev/null; then
  sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  sudo_if_needed apt-get install -y -o DPkg::Lock::Timeout=600 gcc libc6-dev
fi
cd "$here"
node_modules/.bin/node -e "
  const { ensureLauncherBinary } = await import('./runners/local/launcher-build.ts');
  const os = await import('node:os'); const path = await import('node:path');
  const r = await ensureLauncherBinary(path.join(os.homedir(), '.cache', 'maestro', 'launcher'));
  if (!r.ok) { console.error('local-runner.sh: ' + r.reason); process.exit(1); }
  console.log('local-runner.sh: launcher at ' + r.path);
" --input-type=module
