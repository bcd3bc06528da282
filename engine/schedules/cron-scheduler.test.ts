import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import type { PlanSchedule } from '../../compiler/index.ts';
import type { Clock } from '../../core/index.ts';
import { CronScheduler, type FireSlot, type ScheduledWorkflow, type SlotToFire } from './cron-scheduler.ts';
import { openScheduleStore } from './schedule-store.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-01T00:30:00Z');

/** A clock the test moves; sleeps wait until it is moved or aborted (never wall time). */
function settableClock(start: number): Clock & { set(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    set: (ms) => void (now = ms),
    sleep: (_ms, signal) =>
      new Promise((_resolve, reject) => {
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener('abort', () => reject(signal.reason));
      }),
  };
}

const dirs: string[] = [];
const dbs: DatabaseSync[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.isOpen) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** One data dir; every `open()` is a new connection to its file, as another process would have. */
function dataDir() {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-schedules-'));
  dirs.push(dir);
  return {
    open: () => {
      const db = new DatabaseSync(join(dir, 'schedules.sqlite'));
      db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;');
      dbs.push(db);
      return { db, store: openScheduleStore(db) };
    },
  };
}

const nightly = (catchUp: PlanSchedule['catchUp'] = 'latest'): ScheduledWorkflow[] => [
  {
    scope: 'octo/repo',
    workflow: 'default/nightly',
    schedules: [{ cron: '0 * * * *', timezone: 'UTC', catchUp }],
  },
];

/** A dispatcher that records what it was asked, idempotent by run id as the port requires. */
function ledger() {
  const calls: SlotToFire[] = [];
  const runs = new Set<string>();
  const fire: FireSlot = async (slot) => {
    calls.push(slot);
    runs.add(slot.runId);
    return { runId: slot.runId };
  };
  return { calls, runs, fire };
}

function scheduler(
  store: ReturnType<ReturnType<typeof dataDir>['open']>['store'],
  clock: Clock,
  fire: FireSlot,
  listed = nightly(),
  owner = 'a',
) {
  let n = 0;
  return new CronScheduler({
    source: { listScheduled: async () => listed },
    store,
    fire,
    clock,
    owner,
    leaseMs: 60_000,
    newRunId: () => `r-${owner}-${++n}`,
  });
}

describe('CronScheduler', () => {
  it('fires each slot once: nothing on first sight, the slot when it comes, never again', async () => {
    const clock = settableClock(T0);
    const { store } = dataDir().open();
    const { calls, fire } = ledger();
    const s = scheduler(store, clock, fire);
    await s.tick();
    expect(calls).toEqual([]);
    clock.set(Date.parse('2026-03-01T01:00:05Z'));
    await s.tick();
    await s.tick();
    clock.set(Date.parse('2026-03-01T01:30:00Z'));
    await s.tick();
    expect(calls.map((c) => new Date(c.slotMs).toISOString())).toEqual(['2026-03-01T01:00:00.000Z']);
    expect((await store.list()).map((c) => c.state)).toEqual(['fired']);
  });

  it('on start, runs the latest slot missed while down (catchUp latest), or all of them', async () => {
    for (const [catchUp, expected] of [
      ['latest', 1],
      ['none', 0],
      ['all', 5],
      [{ withinMs: 2 * HOUR }, 2],
    ] as const) {
      const clock = settableClock(T0);
      const data = dataDir();
      await scheduler(data.open().store, clock, ledger().fire, nightly(catchUp)).tick();
      clock.set(Date.parse('2026-03-01T05:10:00Z'));
      const { calls, fire } = ledger();
      await scheduler(data.open().store, clock, fire, nightly(catchUp), 'b').tick();
      expect(calls.length, JSON.stringify(catchUp)).toBe(expected);
    }
  });

  it('a restart in the middle of a slot: the claim is completed under its run id, once', async () => {
    const clock = settableClock(T0);
    const data = dataDir();
    const first = data.open();
    const { calls, runs, fire } = ledger();
    await scheduler(first.store, clock, fire).tick();
    clock.set(Date.parse('2026-03-01T01:00:01Z'));
    // The first process claims the slot, then stops (its dispatch never returns; its database
    // connection is gone).
    const stopped: FireSlot = (slot) => {
      calls.push(slot);
      return new Promise(() => {});
    };
    void scheduler(first.store, clock, stopped).tick();
    while (calls.length === 0) await new Promise((r) => setImmediate(r));
    first.db.close();
    const second = data.open();
    const claimed = await second.store.list();
    expect(claimed).toMatchObject([{ state: 'claimed', owner: 'a', runId: 'r-a-1' }]);
    // The new process on the same data dir: the claim's lease is live, so it does not touch it.
    const b = scheduler(second.store, clock, fire, nightly(), 'b');
    expect((await b.tick()).fired).toEqual([]);
    // Once the lease has run out it completes the claim, under the run id chosen at claim time.
    clock.set(Date.parse('2026-03-01T01:01:02Z'));
    expect((await b.tick()).fired.map((c) => c.runId)).toEqual(['r-a-1']);
    await b.tick();
    expect(calls.map((c) => c.runId)).toEqual(['r-a-1', 'r-a-1']);
    expect([...runs]).toEqual(['r-a-1']);
    expect(await second.store.list()).toMatchObject([{ state: 'fired', owner: 'b', runId: 'r-a-1' }]);
  });

  it('two schedulers on one data dir fire each slot once', async () => {
    const clock = settableClock(T0);
    const data = dataDir();
    const { calls, fire } = ledger();
    const a = scheduler(data.open().store, clock, fire, nightly('all'), 'a');
    const b = scheduler(data.open().store, clock, fire, nightly('all'), 'b');
    await Promise.all([a.tick(), b.tick()]);
    for (let hour = 1; hour <= 24; hour++) {
      clock.set(T0 + hour * HOUR);
      // Both look at the same instant, interleaved at every await, each going first in turn.
      await Promise.all(hour % 2 === 0 ? [a.tick(), b.tick()] : [b.tick(), a.tick()]);
    }
    const slots = calls.map((c) => c.slotMs);
    expect(slots).toHaveLength(24);
    expect(new Set(slots).size).toBe(24);
    expect(new Set(calls.map((c) => c.runId)).size).toBe(24);
    // Both did fire some: the claim, not luck of ordering, kept them apart.
    expect(new Set(calls.map((c) => c.runId.split('-')[1]))).toEqual(new Set(['a', 'b']));
  });

  it('a claim whose workflow lost its schedule is skipped on takeover, with the reason', async () => {
    const clock = settableClock(T0);
    const data = dataDir();
    const first = data.open();
    await scheduler(first.store, clock, ledger().fire).tick();
    clock.set(Date.parse('2026-03-01T01:00:01Z'));
    await scheduler(first.store, clock, async () => {
      throw new Error('stopped');
    }).tick();
    clock.set(Date.parse('2026-03-01T01:05:00Z'));
    const { calls, fire } = ledger();
    const report = await scheduler(data.open().store, clock, fire, [], 'b').tick();
    expect(calls).toEqual([]);
    expect(report.skipped).toMatchObject([{ detail: expect.stringContaining('no schedule') }]);
  });

  it('start() ticks at once and stop() ends the loop', async () => {
    const clock = settableClock(T0);
    const { store } = dataDir().open();
    const s = scheduler(store, clock, ledger().fire);
    s.start();
    await s.stop();
    expect(await store.watermark('octo/repo', 'default/nightly')).toBe(T0);
  });
});
