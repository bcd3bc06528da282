/**
 * CPU per run of `maestro server`, split by where it is spent: the server's main thread (what
 * limits its rate: one thread, one core), its other threads by name (V8's GC and compiler helpers,
 * libuv's pool), its child processes (the local runner's launcher and every sandboxed task it
 * reaped) and, on PostgreSQL, the database server. A fixed number of runs of the bench's no-op
 * workflow are posted open loop at a fixed rate below saturation and awaited; the counters come
 * from /proc (CPU time, not wall time), so two versions can be compared on a busy machine in the
 * same session, which the latencies of `run.ts` cannot.
 *
 *   node bench/scheduler/cpu-per-run.ts [--runs 500] [--rate 50] [--repeat 3]
 *     [--only sqlite,postgres] [--prof <dir>] [--statements] [--perf <dir>]
 *
 * `--perf` records the server's threads with `perf record -e cpu-clock` (samples only while a
 * thread is on a core, unlike `--cpu-prof`, whose wall-clock samples on a loaded machine pile up
 * wherever the main thread was preempted: at syscalls) during the measured windows, JS functions
 * named through `--perf-basic-prof-only-functions`; `perf report -i <dir>/<store>.data --no-children
 * --sort comm,dso,sym` reads it.
 * `--prof` writes a CPU profile of each server (`node --cpu-prof`) on a clean stop.
 * `--statements` loads pg_stat_statements (with `track_planning`) into the PostgreSQL server and
 * prints, for the measured windows, the statements, transactions and plans per run, the time spent
 * executing and planning, and the statements with the most of it (calls and milliseconds per run).
 * A diagnosis beside the bench, like pg-statements.ts; RESULTS.md quotes it.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../test/setup/postgres-server.ts';
import { startMaestro } from './maestro-target.ts';
import { openLoopSchedule, runOpenLoop } from './open-loop.ts';
import { cpuSeconds, postgresCpuSeconds, threadCpuSeconds } from './processes.ts';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '500' },
    rate: { type: 'string', default: '50' },
    repeat: { type: 'string', default: '3' },
    only: { type: 'string', default: 'sqlite,postgres' },
    prof: { type: 'string' },
    statements: { type: 'boolean', default: false },
    perf: { type: 'string' },
  },
});
const RUNS = Number(flags.runs);
const RATE = Number(flags.rate);
const REPEAT = Number(flags.repeat);
for (const [name, value] of [
  ['runs', RUNS],
  ['rate', RATE],
  ['repeat', REPEAT],
] as const)
  if (!(value > 0)) throw new Error(`--${name} must be a number > 0`);
const stores = String(flags.only).split(',');
for (const s of stores)
  if (s !== 'sqlite' && s !== 'postgres') throw new Error(`--only ${s}: sqlite or postgres`);

type Counters = Map<string, number>;

/** Every counter at one moment: threads of the server by name, its children, the database. */
function snapshot(pid: number, pgCpu?: () => number): Counters {
  const c: Counters = new Map();
  let own = 0;
  for (const [name, s] of threadCpuSeconds(pid)) {
    const key = name === 'main' ? 'main thread' : /^V8|DelayedTask/.test(name) ? 'V8 helpers' : name;
    c.set(key, (c.get(key) ?? 0) + s);
    own += s;
  }
  c.set('children (launcher, tasks)', cpuSeconds(pid) - own);
  if (pgCpu) c.set('postgresql', pgCpu());
  return c;
}

function perRun(before: Counters, after: Counters, runs: number): Map<string, number> {
  const out = new Map<string, number>();
  let total = 0;
  for (const [k, v] of after) {
    const ms = ((v - (before.get(k) ?? 0)) * 1000) / runs;
    out.set(k, ms);
    total += ms;
  }
  out.set('total', total);
  return out;
}

/** `perf record` of every thread of `pid` until `stop()`. */
function record(pid: number, dir: string, store: string) {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `${store}.data`);
  const perf = spawn(
    'perf',
    ['record', '-q', '-g', '-e', 'cpu-clock', '-F', '997', '-p', String(pid), '-o', out],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise((resolve) => perf.once('exit', resolve));
  return {
    async stop() {
      perf.kill('SIGINT');
      await exited;
      console.log(`  perf: ${out}`);
    },
  };
}

/** pg_stat_statements in the server (a restart to preload it) and the contender's database. */
async function statementStats(server: PostgresServer, url: string) {
  const query = async <R extends pg.QueryResultRow>(text: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query<R>(text)).rows;
    } finally {
      await client.end();
    }
  };
  const [row] = await query<{ shared_preload_libraries: string }>('SHOW shared_preload_libraries');
  const loaded = row?.shared_preload_libraries ?? '';
  if (!loaded.includes('pg_stat_statements')) {
    await query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    server.restart();
  }
  // Planning time too: what a statement sent without a name pays on every call (known once loaded).
  await query("ALTER SYSTEM SET pg_stat_statements.track_planning = 'on'");
  await query('SELECT pg_reload_conf()');
  await query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const commits = async () =>
    Number(
      (
        await query<{ n: string }>(
          'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
        )
      )[0]?.n,
    );
  let commitsAtReset = 0;
  return {
    async reset() {
      await query('SELECT pg_stat_statements_reset()');
      commitsAtReset = await commits();
    },
    async print(runs: number) {
      const where = 'WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())';
      const rows = await query<{ calls: string; ms: number; plan: number; query: string }>(
        `SELECT calls, total_exec_time AS ms, total_plan_time AS plan, query FROM pg_stat_statements
          ${where} ORDER BY total_exec_time + total_plan_time DESC LIMIT 25`,
      );
      const [sum] = await query<{ calls: string; ms: number; plan: number; plans: string }>(
        `SELECT sum(calls) AS calls, sum(total_exec_time) AS ms, sum(total_plan_time) AS plan,
                sum(plans) AS plans FROM pg_stat_statements ${where}`,
      );
      // The counters read and reset themselves go through the same database: a handful in all.
      const per = (n: unknown) => (Number(n) / runs).toFixed(2);
      console.log(
        `  per run: ${per(sum?.calls)} statements, ${per(sum?.plans)} planned, ` +
          `${per((await commits()) - commitsAtReset)} transactions; ` +
          `execution ${(Number(sum?.ms) / runs).toFixed(3)} ms, planning ${(Number(sum?.plan) / runs).toFixed(3)} ms`,
      );
      console.log('  statements by execution + planning time (calls/run, exec ms/run, plan ms/run):');
      for (const r of rows)
        console.log(
          `  ${(Number(r.calls) / runs).toFixed(2).padStart(6)} ${(r.ms / runs).toFixed(3).padStart(7)} ` +
            `${(r.plan / runs).toFixed(3).padStart(7)}  ` +
            r.query.replace(/\s+/g, ' ').slice(0, 130),
        );
    },
  };
}

const work = mkdtempSync(join(tmpdir(), 'maestro-cpu-per-run-'));
let postgres: PostgresServer | undefined;
try {
  console.log(
    `${RUNS} runs at ${RATE}/s, ${REPEAT} windows per store (ms of CPU per run; /proc ticks are 10 ms)`,
  );
  for (const store of stores) {
    if (store === 'postgres') postgres ??= await startPostgres();
    const databaseUrl = store === 'postgres' ? postgres!.createDatabase(`cpu_${Date.now()}`) : undefined;
    const statements =
      databaseUrl && flags.statements ? await statementStats(postgres!, databaseUrl) : undefined;
    const pgCpu = databaseUrl ? () => postgresCpuSeconds(join(postgres!.socketDir, 'data')) : undefined;
    const target = await startMaestro({
      label: `cpu-${store}`,
      work,
      sandbox: 'bwrap',
      ...(flags.prof ? { nodeFlags: ['--cpu-prof', '--cpu-prof-dir', join(flags.prof, store)] } : {}),
      ...(flags.perf ? { nodeFlags: ['--perf-basic-prof-only-functions'] } : {}),
      ...(databaseUrl ? { databaseUrl } : {}),
    });
    try {
      const send = async (count: number) => {
        const sent = await runOpenLoop(openLoopSchedule(RATE, count / RATE), (i) => target.submit(i));
        const failed = sent.filter((s) => s.result === undefined).length;
        await target.settle([], 120_000);
        if (failed) console.log(`  ${failed} of ${count} requests failed`);
      };
      await send(Math.min(100, RUNS)); // warm-up: JIT, the policy bundle, prepared statements
      await statements?.reset();
      const perf = flags.perf ? record(target.pid(), flags.perf, store) : undefined;
      const windows: Map<string, number>[] = [];
      for (let i = 0; i < REPEAT; i++) {
        const before = snapshot(target.pid(), pgCpu);
        await send(RUNS);
        windows.push(perRun(before, snapshot(target.pid(), pgCpu), RUNS));
      }
      console.log(
        `maestro-${store}  (load ${(await import('node:os'))
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')})`,
      );
      const keys = [...windows[0]!.keys()].filter(
        (k) => windows.some((w) => w.get(k)! >= 0.05) || k === 'total',
      );
      for (const k of keys)
        console.log(`  ${k.padEnd(28)} ${windows.map((w) => w.get(k)!.toFixed(2).padStart(7)).join(' ')}`);
      await perf?.stop();
      await statements?.print(RUNS * REPEAT);
      if (flags.prof) await target.collect([]); // a clean stop writes the profile
    } finally {
      await target.close();
    }
  }
} finally {
  postgres?.stop();
  rmSync(work, { recursive: true, force: true });
}
