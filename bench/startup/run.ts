// Start-up and memory benchmark (issue 18): `maestro --help` and `maestro validate` of one small
// manifest against a bare `node` start (the peer, the floor every command pays), medians of 7
// runs, target 150 ms; and the quickstart run's (`npm start`) peak RSS against a bare node's,
// target 80 MiB. Run: node bench/startup/run.ts (records nothing; copy into bench/run/RESULTS.md).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');
const node = process.execPath;
const manifest = 'examples/quickstart/.maestro/workflows/hello.yaml';
const runs = 7;
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;

function wallMs(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(node, args, { cwd: repo, stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** Peak RSS in MiB of one run, from GNU time (the process's own maximum resident set). */
function peakMiB(args: string[], env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (!existsSync('/usr/bin/time')) return undefined;
  const r = spawnSync('/usr/bin/time', ['-f', '%M', node, ...args], { cwd: repo, env, encoding: 'utf8' });
  const kb = Number(/(\d+)\s*$/.exec(r.stderr)?.[1]);
  return Number.isFinite(kb) ? kb / 1024 : undefined;
}

console.log(
  `node ${process.version}, ${new Date().toISOString()}, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
wallMs(['bin/maestro.ts', 'validate', manifest]); // warm the compile cache
const peer = median(Array.from({ length: runs }, () => wallMs(['-e', ''])));
console.log('| bench | peer: bare node (ms) | maestro (ms) | ratio | target |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, args] of [
  ['`maestro --help`', ['bin/maestro.ts', '--help']],
  ['`maestro validate` (quickstart)', ['bin/maestro.ts', 'validate', manifest]],
] as const) {
  const ms = median(Array.from({ length: runs }, () => wallMs([...args])));
  console.log(`| ${name} | ${peer.toFixed(0)} | ${ms.toFixed(0)} | ${(ms / peer).toFixed(2)} | ≤ 150 ms |`);
}
const bare = peakMiB(['-e', '']);
const peaks: number[] = [];
for (let i = 0; i < 3; i++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'maestro-bench-startup-'));
  try {
    // As `npm start` runs it (package.json): the young generation capped at 4 MiB.
    const peak = peakMiB(['--max-semi-space-size=4', 'bin/maestro.ts', 'run', manifest], {
      ...process.env,
      MAESTRO_DATA_DIR: dataDir,
    });
    if (peak !== undefined) peaks.push(peak);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
if (bare !== undefined && peaks.length > 0)
  console.log(
    `| quickstart run peak RSS (MiB, median of ${peaks.length}) | ${bare.toFixed(0)} | ${median(peaks).toFixed(0)} | ${(median(peaks) / bare).toFixed(2)} | ≤ 80 MiB |`,
  );
else console.log('| quickstart run peak RSS | (needs /usr/bin/time) | | | ≤ 80 MiB |');
