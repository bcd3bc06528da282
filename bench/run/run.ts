/**
 * bench/run: the same task graphs run by ninja (the peer) and by Maestro, on this machine, in
 * this run, at the same parallelism (the number of CPUs), interleaved so drift hits all alike.
 *
 *   node bench/run/run.ts [--runs n] [--only dag-1000,chain-40,dag-10000] [--contenders a,b] [--json]
 *
 * Contenders (contenders.ts):
 *   ninja                 `ninja -j N` on a generated build.ninja (each edge `true` through /bin/sh -c)
 *   ninja+bwrap           the same with every command inside the local runner's own bubblewrap
 *                         sandbox (the same layout a task gets): the like-with-like peer of a
 *                         sandboxed `maestro run`
 *   maestro run           the real CLI: `maestro run <manifest> --concurrency N --data-dir <fresh>`
 *   maestro run:nosb      the same with `local: { sandbox: none }`: the like-with-like peer of ninja
 *   start-up              `maestro run` of a one-task graph (chain-40 only): the "plus start-up"
 *   runner:launcher[:nosb] the local runner alone through the C launcher, no engine, no store
 *   runner:node           the same through child_process (only when named in --contenders)
 *
 * Then the targets of issue 18, each as a ratio beside its target. Medians of every run; the load
 * average before and after each scenario, since the machine is shared.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLocalRunner } from '../../runners/index.ts';
import {
  cliHasRun,
  maestroRun,
  N,
  ninja,
  ninjaSandboxed,
  ninjaSandboxedBase,
  prepareScenario,
  type SandboxModule,
  runnerAlone,
  type Contender,
  type Sample,
} from './contenders.ts';
import { layeredGraph } from './graph.ts';
import { spawnSync } from 'node:child_process';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string' },
    only: { type: 'string' },
    contenders: { type: 'string' },
    // Another checkout (e.g. main before a change): its `maestro run` and its sandbox layout
    // join the same interleaved rounds as `…@base`, for a before/after at the same load.
    base: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

interface Scenario {
  name: string;
  layers: number;
  width: number;
}
const scenarios: Scenario[] = [
  { name: 'dag-1000', layers: 20, width: 50 },
  { name: 'chain-40', layers: 40, width: 1 },
  { name: 'dag-10000', layers: 200, width: 50 },
].filter((s) => !args.only || args.only.split(',').includes(s.name));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

function contendersFor(scenario: Scenario, cli: boolean): Array<[string, Contender]> {
  const all: Array<[string, Contender]> = [
    ['ninja', ninja],
    ['ninja+bwrap', ninjaSandboxed],
    ...(cli
      ? ([
          ['maestro run', maestroRun({ sandbox: 'bwrap' })],
          ['maestro run:nosb', maestroRun({ sandbox: 'none' })],
        ] as Array<[string, Contender]>)
      : []),
    ...(cli && scenario.name === 'chain-40'
      ? ([['start-up', maestroRun({ sandbox: 'none', manifest: 'one.yaml' })]] as Array<[string, Contender]>)
      : []),
    ...(args.base
      ? ([
          ['ninja+bwrap@base', ninjaSandboxedBase],
          ['maestro run@base', maestroRun({ sandbox: 'bwrap', checkout: args.base })],
          ['maestro run:nosb@base', maestroRun({ sandbox: 'none', checkout: args.base })],
        ] as Array<[string, Contender]>)
      : []),
    ['runner:launcher', runnerAlone('launcher')],
    ['runner:launcher:nosb', runnerAlone('launcher', 'none')],
    ['runner:node', runnerAlone('node')],
  ];
  const wanted = args.contenders?.split(',');
  return all.filter(([name]) =>
    wanted ? wanted.includes(name) || name === 'ninja' : name !== 'runner:node',
  );
}

type Medians = Record<string, { median: number; peakMiB?: number; runs: number[] }>;

function printTable(scenario: string, tasks: number, runs: number, medians: Medians): void {
  console.log(`${scenario}: ${tasks} tasks, -j ${N}, ${runs} runs each (median s, ratio to ninja)`);
  const base = medians.ninja!.median;
  for (const [name, m] of Object.entries(medians)) {
    const peak = m.peakMiB === undefined ? '' : `  peak ${m.peakMiB.toFixed(0).padStart(4)} MiB`;
    console.log(
      `  ${name.padEnd(21)} ${m.median.toFixed(3).padStart(8)} s  ${(m.median / base).toFixed(2).padStart(6)}x  ${((m.median * 1000) / tasks).toFixed(3)} ms/task${peak}  [${m.runs.map((x) => x.toFixed(2)).join(' ')}]`,
    );
  }
}

/** The rows of issue 18's table this scenario answers: ratio, target, met or not. */
function printTargets(scenario: string, medians: Medians, perTask: Map<string, number>): void {
  const rows: Array<[string, number | undefined, number, string]> = [];
  const m = (name: string) => medians[name]?.median;
  const ratio = (a?: number, b?: number) => (a === undefined || b === undefined ? undefined : a / b);
  const target = scenario === 'chain-40' ? 2 : 1.5;
  const startup = m('start-up') ?? 0;
  const less = scenario === 'chain-40' ? ' − start-up' : '';
  const minus = (x?: number) => (x === undefined ? undefined : x - startup);
  // `@base`: the --base checkout's runs against its own sandbox layout (the start-up subtracted is
  // this checkout's: the two differ by less than the noise).
  for (const at of medians['maestro run@base'] ? ['', '@base'] : ['']) {
    const tag = at ? '@base: ' : '';
    const [sandboxed, plain] = [m(`maestro run${at}`), m(`maestro run:nosb${at}`)];
    rows.push([
      `${tag}maestro run${less} / ninja+bwrap`,
      ratio(minus(sandboxed), m(`ninja+bwrap${at}`)),
      target,
      '×',
    ]);
    rows.push([`${tag}maestro run:nosb${less} / ninja`, ratio(minus(plain), m('ninja')), target, '×']);
  }
  if (scenario === 'dag-10000') {
    rows.push(['maestro run peak RSS', medians['maestro run']?.peakMiB, 300, ' MiB']);
    for (const name of ['maestro run', 'maestro run:nosb']) {
      const small = perTask.get(`dag-1000/${name}`);
      const big = perTask.get(`dag-10000/${name}`);
      // Linear: the per-task cost at 10,000 tasks no more than 1.2× the one at 1,000.
      rows.push([`${name} per task, 10,000 / 1,000`, ratio(big, small), 1.2, '×']);
    }
  }
  console.log('  targets (issue 18):');
  for (const [what, value, limit, unit] of rows) {
    const shown = value === undefined ? 'n/a' : `${value.toFixed(unit === '×' ? 2 : 0)}${unit}`;
    const verdict = value === undefined ? '' : value <= limit ? 'met' : 'MISSED';
    console.log(`    ${what.padEnd(46)} ${shown.padStart(9)}  target ≤ ${limit}${unit}  ${verdict}`);
  }
}

async function checkTools(): Promise<void> {
  const warm = createLocalRunner({ spawn: 'launcher' });
  const path = await warm.spawnPath();
  await warm.close();
  if (path.fallbackReason) throw new Error(`${path.fallbackReason} (run bash scripts/setup/local-runner.sh)`);
  if (spawnSync('ninja', ['--version']).status !== 0)
    throw new Error('ninja is missing: run bash scripts/setup/ninja.sh');
}

async function main(): Promise<void> {
  await checkTools();
  const cli = cliHasRun();
  if (!cli) console.log('note: `maestro run` is not available; measuring the runner alone\n');
  const base = args.base
    ? ((await import(join(args.base, 'runners', 'index.ts'))) as SandboxModule)
    : undefined;
  const report: Record<string, { load: [string, string]; medians: Medians }> = {};
  const perTask = new Map<string, number>();
  for (const scenario of scenarios) {
    const tasks = layeredGraph(scenario.layers, scenario.width);
    const dir = mkdtempSync(join(tmpdir(), `maestro-bench-run-${scenario.name}-`));
    prepareScenario(dir, scenario.name, tasks, base);
    const runs = Number(args.runs ?? 5);
    const contenders = contendersFor(scenario, cli);
    const samples = new Map<string, Sample[]>(contenders.map(([name]) => [name, []]));
    const before = load();
    for (let i = 0; i < runs; i++)
      for (const [name, contender] of contenders) samples.get(name)?.push(await contender(dir, tasks));
    const medians: Medians = {};
    for (const [name, xs] of samples) {
      const peaks = xs.flatMap((x) => (x.peakMiB === undefined ? [] : [x.peakMiB]));
      medians[name] = {
        median: median(xs.map((x) => x.seconds)),
        runs: xs.map((x) => x.seconds),
        ...(peaks.length ? { peakMiB: median(peaks) } : {}),
      };
      perTask.set(`${scenario.name}/${name}`, medians[name].median / tasks.length);
    }
    printTable(scenario.name, tasks.length, runs, medians);
    printTargets(scenario.name, medians, perTask);
    const after = load();
    console.log(`  load average (1, 5, 15 min): before ${before}, after ${after}\n`);
    report[scenario.name] = { load: [before, after], medians };
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  }
  if (args.json) console.log(JSON.stringify({ cpus: N, report }, null, 2));
}

await main();
