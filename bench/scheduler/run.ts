/**
 * bench/scheduler (SM-102): open-loop `POST /v1/runs` of a single-task workflow that does nothing,
 * against a real `maestro server` on SQLite and on PostgreSQL, and the peer, graphile-worker, on
 * the same PostgreSQL server at the same rate (`addJob` → job start). See README.md.
 *
 *   node bench/scheduler/run.ts [--rate 100] [--seconds 60] [--warmup 2] [--drain 60]
 *     [--only sqlite,postgres,graphile] [--sandbox bwrap|none] [--peer-concurrency 10]
 *     [--concurrency n] [--worker-runs n]
 *
 * Environment: BENCH_RATE, BENCH_SECONDS (as the flags; flags win), BENCH_PROF=<dir> (CPU
 * profiles of the servers, `node --cpu-prof`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../test/setup/postgres-server.ts';
import { startGraphile } from './graphile-target.ts';
import { startMaestro } from './maestro-target.ts';
import { openLoopSchedule, runOpenLoop } from './open-loop.ts';
import { postgresCpuSeconds } from './processes.ts';
import { analyse, report, type PhaseResult } from './report.ts';
import type { Target } from './target.ts';

const CONTENDERS = ['sqlite', 'postgres', 'graphile'] as const;
type Contender = (typeof CONTENDERS)[number];

const { values: flags } = parseArgs({
  options: {
    rate: { type: 'string', default: process.env.BENCH_RATE ?? '100' },
    seconds: { type: 'string', default: process.env.BENCH_SECONDS ?? '60' },
    warmup: { type: 'string', default: '2' },
    drain: { type: 'string', default: '60' },
    only: { type: 'string', default: CONTENDERS.join(',') },
    sandbox: { type: 'string', default: 'bwrap' },
    'peer-concurrency': { type: 'string', default: '10' },
    // The server's --concurrency and --worker-runs; unset: its defaults.
    concurrency: { type: 'string' },
    'worker-runs': { type: 'string' },
  },
});
const number = (name: keyof typeof flags): number => {
  const value = Number(flags[name]);
  if (!(value > 0)) throw new Error(`--${name} ${String(flags[name])} must be a number > 0`);
  return value;
};
const RATE = number('rate');
const SECONDS = number('seconds');
const WARMUP = number('warmup');
const DRAIN_MS = number('drain') * 1000;
const PEER_CONCURRENCY = number('peer-concurrency');
const serverSlots = {
  ...(flags.concurrency === undefined ? {} : { concurrency: number('concurrency') }),
  ...(flags['worker-runs'] === undefined ? {} : { workerRuns: number('worker-runs') }),
};
const only = String(flags.only).split(',') as Contender[];
for (const name of only)
  if (!CONTENDERS.includes(name)) throw new Error(`--only ${name}: one of ${CONTENDERS.join(', ')}`);
if (flags.sandbox !== 'bwrap' && flags.sandbox !== 'none') throw new Error('--sandbox is bwrap or none');
const sandbox = flags.sandbox;
const nodeFlags = (label: string) =>
  process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir', join(process.env.BENCH_PROF, label)] : [];

/** Commits + rollbacks of one database so far (PostgreSQL's statistics; each statement outside a
 * transaction block is one). Statistics are flushed within a second, hence the wait. */
async function transactions(url: string): Promise<number> {
  await new Promise((r) => setTimeout(r, 1500));
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = current_database()',
    );
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

/** Warm-up (not measured), then the measured open loop, then the stored times of what it sent. */
async function measure(target: Target, databaseUrl?: string): Promise<PhaseResult> {
  const warm = await runOpenLoop(openLoopSchedule(RATE, WARMUP), (i) => target.submit(i));
  await target.settle(
    warm.flatMap((s) => (s.result ? [s.result] : [])),
    DRAIN_MS,
  );
  const xactBefore = databaseUrl ? await transactions(databaseUrl) : 0;
  const cpuBefore = target.cpuSeconds();
  const sent = await runOpenLoop(openLoopSchedule(RATE, SECONDS), (i) => target.submit(i));
  const ids = sent.flatMap((s) => (s.result ? [s.result] : []));
  await target.settle(ids, DRAIN_MS);
  const cpuSeconds = target.cpuSeconds() - cpuBefore;
  const result = analyse(target.label, sent, await target.collect(ids), cpuSeconds);
  if (databaseUrl) result.transactionsPerRun = ((await transactions(databaseUrl)) - xactBefore) / sent.length;
  return result;
}

const work = mkdtempSync(join(tmpdir(), 'maestro-bench-scheduler-'));
let postgres: PostgresServer | undefined;
const results: PhaseResult[] = [];
try {
  if (only.includes('postgres') || only.includes('graphile')) postgres = await startPostgres();
  const pgCpu = () => postgresCpuSeconds(join(postgres!.socketDir, 'data'));
  console.log(
    `open loop: ${RATE} requests/s for ${SECONDS} s (+${WARMUP} s warm-up, not measured); ` +
      `local runner sandbox: ${sandbox}; graphile-worker concurrency ${PEER_CONCURRENCY}; ` +
      `maestro server --concurrency ${serverSlots.concurrency ?? 'default'} ` +
      `--worker-runs ${serverSlots.workerRuns ?? 'default (32)'}`,
  );
  for (const name of only) {
    const databaseUrl =
      name === 'sqlite'
        ? undefined
        : postgres!.createDatabase(name === 'graphile' ? 'graphile_bench' : 'maestro_bench');
    const target =
      name === 'graphile'
        ? await startGraphile({
            work,
            databaseUrl: databaseUrl!,
            concurrency: PEER_CONCURRENCY,
            extraCpuSeconds: pgCpu,
          })
        : await startMaestro({
            label: `maestro-${name}`,
            work,
            sandbox,
            nodeFlags: nodeFlags(name),
            ...serverSlots,
            ...(databaseUrl ? { databaseUrl, extraCpuSeconds: pgCpu } : {}),
          });
    try {
      results.push(await measure(target, databaseUrl));
    } finally {
      await target.close();
    }
    console.log(`  ${target.label}: done`);
  }
  console.log(report(results, { rate: RATE, seconds: SECONDS }));
} finally {
  postgres?.stop();
  if (!process.env.BENCH_KEEP) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
