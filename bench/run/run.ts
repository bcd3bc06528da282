/**
 * bench/run: the same task graphs run by ninja (the peer) and by Maestro, on this machine, in
 * this run, at the same parallelism (the number of CPUs), interleaved so drift hits all alike.
 *
 *   node bench/run/run.ts [--runs n] [--only dag-1000,chain-40,dag-10000] [--no-cli] [--json]
 *
 * Contenders:
 *   ninja            `ninja -j N` on a generated build.ninja (each edge `true` through /bin/sh -c)
 *   maestro run      the real CLI: `node bin/maestro.ts run <manifest> --concurrency N --data-dir <fresh>`
 *   runner:launcher  createLocalRunner alone (C launcher path) driven in dependency order by a
 *                    tiny in-process scheduler: the floor the engine adds its overhead to
 *   runner:launcher:nosb  the launcher path with `sandbox: none`: the difference is the sandbox's cost
 *   runner:node      the same with the child_process path, for the spawn-path comparison
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { baseEnvFrom, createLocalRunner } from '../../runners/index.ts';
import { layeredGraph, toManifest, toNinja, type BenchTask } from './graph.ts';
import { driveGraph } from './runner-driver.ts';

const repo = join(import.meta.dirname, '..', '..');
const node = join(repo, 'node_modules', '.bin', 'node');
const { values: args } = parseArgs({
  options: {
    runs: { type: 'string' },
    only: { type: 'string' },
    'no-cli': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const N = availableParallelism();

interface Scenario {
  name: string;
  layers: number;
  width: number;
  runs: number;
}
const scenarios: Scenario[] = [
  { name: 'dag-1000', layers: 20, width: 50, runs: 7 },
  { name: 'chain-40', layers: 40, width: 1, runs: 7 },
  { name: 'dag-10000', layers: 200, width: 50, runs: 3 },
].filter((s) => !args.only || args.only.split(',').includes(s.name));

/** Runs once and returns its wall time in seconds; setup and cleanup are not timed. */
type Contender = (dir: string, tasks: BenchTask[]) => Promise<number>;

function timed(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return (performance.now() - t0) / 1000;
}

function checked(command: string, argv: string[], cwd: string): void {
  const result = spawnSync(command, argv, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(
      `${command} ${argv.join(' ')} exited ${result.status}: ${(result.stderr || result.stdout).slice(-2000)}`,
    );
}

const ninja: Contender = async (dir) => {
  rmSync(join(dir, '.ninja_log'), { force: true });
  return timed(() => checked('ninja', ['-j', String(N), '-C', dir, '--quiet'], dir));
};

const cli: Contender = async (dir) => {
  const dataDir = mkdtempSync(join(dir, 'data-'));
  try {
    return timed(() =>
      checked(
        node,
        [
          join(repo, 'bin', 'maestro.ts'),
          'run',
          join(dir, 'manifest.yaml'),
          '--concurrency',
          String(N),
          '--data-dir',
          dataDir,
        ],
        dir,
      ),
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
};

const runnerAlone =
  (spawn: 'launcher' | 'node', sandbox: 'bwrap' | 'none' = 'bwrap'): Contender =>
  async (dir, tasks) => {
    const runner = createLocalRunner({ spawn, sandbox, baseEnv: baseEnvFrom(process.env) });
    const root = mkdtempSync(join(dir, `attempts-${spawn}-`));
    try {
      const t0 = performance.now();
      await driveGraph(runner, tasks, N, root);
      return (performance.now() - t0) / 1000;
    } finally {
      await runner.close();
      rmSync(root, { recursive: true, force: true });
    }
  };

function cliHasRun(): boolean {
  if (args['no-cli']) return false;
  const probe = spawnSync(node, [join(repo, 'bin', 'maestro.ts'), 'run', '--help'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.includes('--concurrency');
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

async function main(): Promise<void> {
  const warm = createLocalRunner({ spawn: 'launcher' });
  const path = await warm.spawnPath();
  await warm.close();
  if (path.fallbackReason) throw new Error(`${path.fallbackReason} (run bash scripts/setup/local-runner.sh)`);
  if (spawnSync('ninja', ['--version']).status !== 0)
    throw new Error('ninja is missing: run bash scripts/setup/ninja.sh');
  const contenders: Array<[string, Contender]> = [
    ['ninja', ninja],
    ['runner:launcher', runnerAlone('launcher')],
    // The same without the bubblewrap sandbox: the difference is the sandbox's per-task cost.
    ['runner:launcher:nosb', runnerAlone('launcher', 'none')],
    ['runner:node', runnerAlone('node')],
  ];
  if (cliHasRun()) contenders.push(['maestro run', cli]);
  else console.log('note: `maestro run` is not available yet; measuring the runner alone\n');

  const report: Record<string, Record<string, { median: number; runs: number[] }>> = {};
  for (const scenario of scenarios) {
    const tasks = layeredGraph(scenario.layers, scenario.width);
    const dir = mkdtempSync(join(tmpdir(), `maestro-bench-run-${scenario.name}-`));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'build.ninja'), toNinja(tasks));
    writeFileSync(join(dir, 'manifest.yaml'), toManifest(scenario.name, tasks));
    const runs = Number(args.runs ?? scenario.runs);
    const times = new Map<string, number[]>(contenders.map(([name]) => [name, []]));
    for (let i = 0; i < runs; i++)
      for (const [name, contender] of contenders) {
        times.get(name)?.push(await contender(dir, tasks));
      }
    const base = median(times.get('ninja') as number[]);
    console.log(
      `${scenario.name}: ${tasks.length} tasks, -j ${N}, ${runs} runs each (median s, ratio to ninja)`,
    );
    report[scenario.name] = {};
    for (const [name] of contenders) {
      const xs = times.get(name) as number[];
      const m = median(xs);
      report[scenario.name]![name] = { median: m, runs: xs };
      const perTask = ((m * 1000) / tasks.length).toFixed(3);
      console.log(
        `  ${name.padEnd(16)} ${m.toFixed(3).padStart(8)} s  ${(m / base).toFixed(2).padStart(6)}x  ${perTask} ms/task  [${xs.map((x) => x.toFixed(2)).join(' ')}]`,
      );
    }
    console.log('');
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
  if (args.json) console.log(JSON.stringify({ cpus: N, report }, null, 2));
}

await main();
