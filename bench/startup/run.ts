// Start-up and memory benchmark (issue 18): `maestro --help` and `maestro validate` of one small
// manifest against a bare `node` start (the peer, the floor every command pays), medians of 7
// runs, target 150 ms; and the quickstart run's (`npm start`) peak RSS against a bare node's,
// target 80 MiB. Each as a checkout runs it: bin/maestro.js (`npm start`, `npm run maestro`: the
// bundled CLI, scripts/build-cli.ts) and, for comparison, bin/maestro.ts (the TypeScript sources,
// what the tests run). Wall time and CPU time (user + system, from GNU time: less sensitive to the
// shared machine's load) are both printed. Run: node bench/startup/run.ts (records nothing; copy
// the table into bench/startup/RESULTS.md with the load average).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');
const node = process.execPath;
const manifest = 'examples/quickstart/.maestro/workflows/hello.yaml';
const runs = 7;
// The node flags `npm start` runs the quickstart with (package.json), so the row measures it.
const startScript = (
  JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: { start: string } }
).scripts.start;
const startFlags = /^node((?: --[^ ]+)*) bin\/maestro\.js/.exec(startScript)?.[1]?.trim().split(' ') ?? [];
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)] as number;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
const hasTime = existsSync('/usr/bin/time');

interface Sample {
  wallMs: number;
  cpuMs?: number;
  peakMiB?: number;
}

/** One run: wall time from here, CPU time and peak RSS from GNU time when it is installed. */
function sample(args: string[], env: NodeJS.ProcessEnv = process.env): Sample {
  const argv = hasTime ? ['/usr/bin/time', '-f', 'TIME %U %S %M', node, ...args] : [node, ...args];
  const start = process.hrtime.bigint();
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: repo, env, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const m = /TIME ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr);
  if (!m) return { wallMs };
  return { wallMs, cpuMs: (Number(m[1]) + Number(m[2])) * 1000, peakMiB: Number(m[3]) / 1024 };
}

function medians(samples: Sample[]) {
  const pick = (f: (s: Sample) => number | undefined) => {
    const v = samples.map(f).filter((x): x is number => x !== undefined);
    return v.length > 0 ? median(v) : undefined;
  };
  return { wall: pick((s) => s.wallMs) as number, cpu: pick((s) => s.cpuMs), peak: pick((s) => s.peakMiB) };
}

const fmt = (v: number | undefined, digits = 0) => (v === undefined ? '—' : v.toFixed(digits));

console.log(`node ${process.version}, ${new Date().toISOString()}, load average ${load()}`);
// Builds the bundle if it is stale and warms the compile cache of both entries.
for (const entry of ['bin/maestro.js', 'bin/maestro.ts']) sample([entry, 'validate', manifest]);
const peer = medians(Array.from({ length: runs }, () => sample(['-e', ''])));
console.log(
  `medians of ${runs}; peer: a bare \`node -e ''\`, ${fmt(peer.wall)} ms wall, ${fmt(peer.cpu)} ms CPU`,
);
console.log('| bench | entry | peer (ms) | wall (ms) | ratio | CPU (ms) | target |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const [name, args] of [
  ['`maestro --help`', ['--help']],
  ['`maestro validate` (quickstart)', ['validate', manifest]],
] as const)
  for (const entry of ['bin/maestro.js', 'bin/maestro.ts']) {
    const m = medians(Array.from({ length: runs }, () => sample([entry, ...args])));
    const met = m.wall <= 150 ? 'met' : 'MISSED';
    console.log(
      `| ${name} | ${entry} | ${fmt(peer.wall)} | ${fmt(m.wall)} | ${(m.wall / peer.wall).toFixed(2)} | ${fmt(m.cpu)} | ≤ 150 ms (${met}) |`,
    );
  }

if (!hasTime) console.log('| quickstart run peak RSS | (needs /usr/bin/time) | | | | | ≤ 80 MiB |');
else
  for (const entry of ['bin/maestro.js', 'bin/maestro.ts']) {
    const samples: Sample[] = [];
    for (let i = 0; i < 5; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), 'maestro-bench-startup-'));
      try {
        // As `npm start` runs it (package.json's node flags).
        samples.push(
          sample([...startFlags, entry, 'run', manifest], {
            ...process.env,
            MAESTRO_DATA_DIR: dataDir,
          }),
        );
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
    const m = medians(samples);
    const met = (m.peak ?? Infinity) <= 80 ? 'met' : 'MISSED';
    console.log(
      `| quickstart run peak RSS (MiB; wall ${fmt(m.wall)} ms, CPU ${fmt(m.cpu)} ms) | ${entry} | ${fmt(peer.peak)} | ${fmt(m.peak)} | ${((m.peak ?? 0) / (peer.peak ?? 1)).toFixed(2)} | | ≤ 80 MiB (${met}) |`,
    );
  }
console.log(`load average after: ${load()}`);
