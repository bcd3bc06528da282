/**
 * One scheduler process for test/schedules-processes.test.ts: opens the shared SQLite file (or
 * the PostgreSQL database, given a postgres:// URL), says ready, waits for "go" on stdin, then ticks once per hour of a day on its own injected clock, printing
 * each slot it fired as a JSON line.
 */
import { DatabaseSync } from 'node:sqlite';
import { createInterface } from 'node:readline';
import { CronScheduler, openPostgresScheduleStore, openScheduleStore } from '../../engine/index.ts';

const [file, owner, startText] = process.argv.slice(2) as [string, string, string];
const HOUR = 3_600_000;
let now = Number(startText);
const postgres = file.startsWith('postgres://') ? await openPostgresScheduleStore(file) : undefined;
const db = postgres ? undefined : new DatabaseSync(file);
db?.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000;');
let n = 0;
const scheduler = new CronScheduler({
  source: {
    listScheduled: async () => [
      {
        scope: 'acme/pipelines',
        workflow: 'demo/nightly',
        schedules: [{ cron: '0 * * * *', timezone: 'UTC', catchUp: 'all' }],
      },
    ],
  },
  store: postgres ?? openScheduleStore(db!),
  clock: { now: () => now, sleep: () => new Promise(() => {}) },
  owner,
  // Each process's clock jumps an hour per tick, so they are hours apart: a lease longer than the
  // simulated day keeps one from taking over the other's live claim (real replicas' clocks agree
  // within the lease; takeovers are tested in engine/schedules).
  leaseMs: 2 * 86_400_000,
  newRunId: () => `r-${owner}-${++n}`,
  fire: async (slot) => {
    // A dispatch takes a moment: the other process gets to run in between.
    await new Promise((r) => setTimeout(r, 10));
    process.stdout.write(`${JSON.stringify({ owner, slotMs: slot.slotMs, runId: slot.runId })}\n`);
    return { runId: slot.runId };
  },
});
process.stdout.write('ready\n');
await new Promise<void>((resolve) => createInterface({ input: process.stdin }).once('line', () => resolve()));
await scheduler.tick();
for (let hour = 1; hour <= 24; hour++) {
  now += HOUR;
  await scheduler.tick();
}
db?.close();
await postgres?.close();
