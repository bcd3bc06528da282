/**
 * The store contract's budgets, costs and usage (docs/budgets.md), on both stores: a namespace's
 * budget round-trips and is replaced; an attempt's price and estimate are kept, its actual cost
 * is price × measured time (a running one up to now); a task's history and the usage report
 * read the same rows.
 */
import { describe, expect, it } from 'vitest';
import type { AsyncStore, NamespaceBudget } from '../../engine/index.ts';
import { finish, newRun, startOf, withStore, type StoreHarness } from './store-contract.ts';

const budget: NamespaceBudget = {
  namespace: 'ns',
  limit: 50,
  currency: 'USD',
  period: 'month',
  soft: 0.8,
  maxRuns: null,
  maxTasks: 2,
  updatedAt: 10,
  updatedBy: 'alice',
};

const toRunning = {
  from: 'ready',
  to: 'running',
  reason: 'started',
  by: 'e',
  time: 1000,
} as const;

/** Starts attempt `id` of task `taskId` at `startedAt` priced 3600 per hour (0.001 per ms). */
async function start(s: AsyncStore, runId: string, taskId: string, id: string, startedAt: number) {
  await s.transitionTask(runId, taskId, 'queued', 'ready', 'dependencies_met', 'e', startedAt);
  return s.startAttempt(
    { ...startOf(id, runId, taskId), startedAt, pricePerHour: 3600, estimatedCost: 5, leaseMs: 60_000 },
    { ...toRunning, time: startedAt },
  );
}

export function budgetContract(harness: StoreHarness): void {
  describe('budgets, costs and usage', () => {
    it('keeps a namespace budget and replaces it; lists them by name, limited to namespaces', () =>
      withStore(harness, async (s) => {
        expect(await s.getBudget('ns')).toBeUndefined();
        await s.putBudget(budget);
        expect(await s.getBudget('ns')).toEqual(budget);
        await s.putBudget({ ...budget, limit: 70, soft: null, maxTasks: null, updatedAt: 11 });
        expect(await s.getBudget('ns')).toMatchObject({
          limit: 70,
          soft: null,
          maxTasks: null,
          updatedAt: 11,
        });
        await s.putBudget({ ...budget, namespace: 'a-team', limit: null, maxRuns: 1 });
        expect((await s.listBudgets()).map((b) => b.namespace)).toEqual(['a-team', 'ns']);
        expect((await s.listBudgets(['ns'])).map((b) => b.namespace)).toEqual(['ns']);
        expect(await s.listBudgets([])).toEqual([]);
      }));

    it('prices attempts by their stored price × measured time, running ones up to now', () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        await s.createRun(newRun('r2', 1000, { namespace: 'other' }));
        const token = await start(s, 'r1', 'a', 'att1', 1000);
        await start(s, 'r1', 'c', 'att2', 3000);
        await start(s, 'r2', 'a', 'att3', 1000);
        await s.finishAttempt('att1', token, 2000, { ...finish, finishedAt: 2000 });
        const [first] = await s.listAttempts('r1', 'a');
        expect(first).toMatchObject({ pricePerHour: 3600, estimatedCost: 5 });
        // att1: 1000 ms finished (1.0); att2: running since 3000, so 1500 ms at 4500 (1.5).
        expect(await s.namespaceSpend({ namespace: 'ns', since: 0, now: 4500 })).toBeCloseTo(2.5, 9);
        // Only attempts started in the period count; a clock behind the start counts nothing.
        expect(await s.namespaceSpend({ namespace: 'ns', since: 2500, now: 4500 })).toBeCloseTo(1.5, 9);
        expect(await s.namespaceSpend({ namespace: 'ns', since: 2500, now: 2000 })).toBe(0);
        expect(await s.namespaceSpend({ namespace: 'nobody', since: 0, now: 4500 })).toBe(0);
      }));

    it("reads a task's history (ran to its own end only) and the usage report grouped three ways", () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        await s.createRun(newRun('r2', 1000, { workflow: 'wf2', namespace: 'other' }));
        const t1 = await start(s, 'r1', 'a', 'att1', 1000);
        await s.finishAttempt('att1', t1, 1400, { ...finish, finishedAt: 1400 });
        const t2 = await start(s, 'r1', 'c', 'att2', 1000);
        await s.finishAttempt('att2', t2, 1100, {
          ...finish,
          outcome: 'cached',
          cacheHit: true,
          finishedAt: 1100,
        });
        const t3 = await start(s, 'r2', 'a', 'att3', 1000);
        await s.finishAttempt('att3', t3, 1700, { ...finish, outcome: 'failed', finishedAt: 1700 });
        expect(await s.taskDurations({ workflow: 'wf', taskId: 'a' })).toEqual([400]);
        expect(await s.taskDurations({ workflow: 'wf', taskId: 'c' })).toEqual([]);
        const window = { since: 0, until: 10_000, now: 10_000 };
        const byNamespace = await s.usage({ ...window, groupBy: 'namespace' });
        expect(byNamespace).toEqual([
          expect.objectContaining({ namespace: 'ns', workflow: null, taskId: null, runs: 1, attempts: 2 }),
          expect.objectContaining({ namespace: 'other', runs: 1, attempts: 1 }),
        ]);
        expect(byNamespace[0]!.estimatedCost).toBeCloseTo(10, 9);
        expect(byNamespace[0]!.actualCost).toBeCloseTo(0.5, 9);
        expect(byNamespace[0]!.taskHours).toBeCloseTo(500 / 3_600_000, 12);
        // Nothing placed by price-aware placement: nothing saved.
        expect(byNamespace.map((r) => r.savings)).toEqual([0, 0]);
        const byTask = await s.usage({ ...window, groupBy: 'task', namespaces: ['ns'] });
        expect(byTask.map((r) => [r.workflow, r.taskId, r.attempts])).toEqual([
          ['wf', 'a', 1],
          ['wf', 'c', 1],
        ]);
        const byWorkflow = await s.usage({ ...window, groupBy: 'workflow' });
        expect(byWorkflow.map((r) => [r.namespace, r.workflow])).toEqual([
          ['ns', 'wf'],
          ['other', 'wf2'],
        ]);
        expect(await s.usage({ ...window, groupBy: 'namespace', namespaces: [] })).toEqual([]);
        expect(await s.usage({ since: 1001, until: 10_000, now: 10_000, groupBy: 'namespace' })).toEqual([]);
      }));

    it("sums price-aware placement's savings against on-demand: a spot attempt's, none for one lost", () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        const placed = async (taskId: string, id: string, price: number, onDemand?: number) => {
          await s.transitionTask('r1', taskId, 'queued', 'ready', 'dependencies_met', 'e', 1000);
          const start = { ...startOf(id, 'r1', taskId), startedAt: 1000, leaseMs: 60_000 };
          const extra = onDemand === undefined ? {} : { onDemandPerHour: onDemand };
          return s.startAttempt({ ...start, pricePerHour: price, ...extra }, toRunning);
        };
        // Spot at 900/h against on-demand's 3600/h for 2000 ms: (3600 - 900) × 2000 / 3.6e6 = 1.5.
        const spot = await placed('a', 'spot', 900, 3600);
        await s.finishAttempt('spot', spot, 3000, { ...finish, finishedAt: 3000 });
        // Spot capacity lost after 1000 ms: it saved nothing (its re-attempt is what ran).
        const lost = await placed('c', 'lost', 900, 3600);
        await s.finishAttempt('lost', lost, 2000, {
          ...finish,
          outcome: 'runner_error',
          retryable: true,
          reason: 'spot_lost',
          finishedAt: 2000,
        });
        // On-demand, not placed: no baseline, nothing saved; it still costs.
        const plain = await placed('b', 'plain', 3600);
        await s.finishAttempt('plain', plain, 2000, { ...finish, finishedAt: 2000 });
        const window = { since: 0, until: 10_000, now: 10_000 };
        const [ns] = await s.usage({ ...window, groupBy: 'namespace' });
        expect(ns!.savings).toBeCloseTo(1.5, 9);
        expect(ns!.actualCost).toBeCloseTo(0.5 + 0.25 + 1, 9);
        const byTask = await s.usage({ ...window, groupBy: 'task' });
        expect(byTask.map((r) => [r.taskId, r.savings])).toEqual([
          ['a', expect.closeTo(1.5, 9)],
          ['b', 0],
          ['c', 0],
        ]);
      }));

    it('claims no run of a namespace at its runs quota: the rest wait queued, in order, and say so once', () =>
      withStore(harness, async (s) => {
        await s.putBudget({ ...budget, maxRuns: 1 });
        await s.createRun(newRun('r1', 1000));
        await s.createRun(newRun('r2', 1001));
        await s.createRun(newRun('r3', 1002));
        await s.createRun(newRun('o1', 1003, { namespace: 'other' }));
        expect((await s.claimRun('w1', 2000, 60_000))?.name).toBe('run:r1');
        // ns is at its quota: the other namespace's run goes first, then nothing.
        expect((await s.claimRun('w2', 2001, 60_000))?.name).toBe('run:o1');
        expect(await s.claimRun('w2', 2002, 60_000)).toBeNull();
        const waits = async (id: string) =>
          (await s.listLogs(id, null))
            .filter((l) => l.text.startsWith('waiting: namespace '))
            .map((l) => l.text);
        expect(await waits('r2')).toEqual([
          'waiting: namespace ns is at its quota of 1 runs at once; this run starts when one of them ends, in its turn',
        ]);
        expect(await waits('r3')).toHaveLength(1);
        expect(await waits('r1')).toEqual([]);
        // r1 ends: its slot goes to r2 (the older), never failed or evicted; r3 keeps waiting.
        await s.transitionRun('r1', 'queued', 'cancelled', 'cancel_requested', 'me', 2003);
        expect((await s.claimRun('w2', 2004, 60_000))?.name).toBe('run:r2');
        expect(await s.claimRun('w2', 2005, 60_000)).toBeNull();
        expect((await s.getRun('r3')).status).toBe('queued');
        // A run whose executor died (lease expired) is not counted, so its namespace's queue moves.
        expect((await s.claimRun('w3', 62_005, 60_000))?.name).toBe('run:r2');
      }));

    it('starts no attempt past a namespace’s tasks quota: the task stays ready and starts in its turn (FIFO)', () =>
      withStore(harness, async (s) => {
        await s.putBudget({ ...budget, maxTasks: 1 });
        for (const [i, id] of ['r1', 'r2', 'r3', 'r4'].entries()) {
          await s.createRun(newRun(id, 1000 + i));
          // Each run's executor holds its lease, as an executing engine does.
          await s.acquireLease(`run:${id}`, 'e', 1000, 60_000);
        }
        await s.createRun(newRun('o1', 1004, { namespace: 'other' }));
        const t1 = await start(s, 'r1', 'a', 'x1', 1000);
        const refused = (p: Promise<unknown>) =>
          expect(p).rejects.toMatchObject({ code: 'quota_tasks', retryable: true });
        // r2's task is refused: nothing written, it stays ready (and says why, as the engine does).
        await refused(start(s, 'r2', 'a', 'x2', 1001));
        expect(await s.getTask('r2', 'a')).toMatchObject({ state: 'ready', attempts: 0 });
        expect(await s.listAttempts('r2')).toEqual([]);
        await s.transitionTask('r2', 'a', 'ready', 'ready', 'quota_tasks', 'e', 1002);
        await refused(start(s, 'r3', 'a', 'x3', 1003));
        await s.transitionTask('r3', 'a', 'ready', 'ready', 'quota_tasks', 'e', 1004);
        // The read a waiting task asks before preparing again: no turn while r1 runs.
        expect(await s.taskQuotaTurn('r2', 'a', 1004)).toBe(false);
        expect(await s.taskQuotaTurn('o1', 'a', 1004)).toBe(true); // no quota there
        // Another namespace is not held.
        await start(s, 'o1', 'a', 'y1', 1005);
        // r1's attempt ends: the slot is r2's (it waited first), not r3's nor a newcomer's.
        await s.finishAttempt(
          'x1',
          t1,
          1006,
          { ...finish, finishedAt: 1006 },
          { ...toRunning, from: 'running', to: 'succeeded', reason: 'exited_zero', time: 1006 },
        );
        expect(await s.taskQuotaTurn('r2', 'a', 1007)).toBe(true);
        expect(await s.taskQuotaTurn('r3', 'a', 1007)).toBe(false); // r2 waited first
        expect(await s.taskQuotaTurn('r4', 'a', 1007)).toBe(false); // a newcomer is behind both
        await refused(start(s, 'r4', 'a', 'x4', 1007));
        const r3 = { ...startOf('x3', 'r3', 'a'), startedAt: 1008, leaseMs: 60_000 };
        await refused(s.startAttempt(r3, { ...toRunning, time: 1008 }));
        const r2 = { ...startOf('x2', 'r2', 'a'), startedAt: 1009, leaseMs: 60_000 };
        await s.startAttempt(r2, { ...toRunning, time: 1009 });
        expect((await s.getTask('r2', 'a')).state).toBe('running');
        await refused(s.startAttempt({ ...r3, startedAt: 1010 }, { ...toRunning, time: 1010 }));
        // r2's attempt lease and r3's executor lease lapse (their worker died): neither holds r4 back.
        const late = { ...startOf('x4', 'r4', 'a'), startedAt: 70_000, leaseMs: 60_000 };
        await s.startAttempt(late, { ...toRunning, time: 70_000 });
        expect((await s.getTask('r4', 'a')).state).toBe('running');
      }));

    it('never lets concurrent attempt starts run more of a namespace than its tasks quota', async () => {
      const db = await harness.database();
      const [one, two] = [await db.open(), await db.open()];
      try {
        await one.putBudget({ ...budget, maxTasks: 2 });
        const ids = Array.from({ length: 12 }, (_, i) => `r${i}`);
        for (const [i, id] of ids.entries()) {
          await one.createRun(newRun(id, 1000 + i));
          await one.transitionTask(id, 'a', 'queued', 'ready', 'dependencies_met', 'e', 1500);
        }
        const startAll = (store: AsyncStore, runs: string[]) =>
          Promise.allSettled(
            runs.map((id) =>
              store.startAttempt(
                { ...startOf(`x-${id}`, id, 'a'), startedAt: 2000, leaseMs: 60_000 },
                { ...toRunning, time: 2000 },
              ),
            ),
          );
        const results = (
          await Promise.all([
            startAll(
              one,
              ids.filter((_, i) => i % 2 === 0),
            ),
            startAll(
              two,
              ids.filter((_, i) => i % 2 === 1),
            ),
          ])
        ).flat();
        const started = results.filter((r) => r.status === 'fulfilled');
        const refusals = results.flatMap((r) =>
          r.status === 'rejected' ? [(r.reason as { code?: string }).code] : [],
        );
        // Without the namespace's lock on PostgreSQL, each start counts in its own snapshot and
        // more than two run (measured: see docs/budgets.md); SQLite's write lock serializes them.
        expect(started).toHaveLength(2);
        expect(new Set(refusals)).toEqual(new Set(['quota_tasks']));
        const running = await Promise.all(ids.map(async (id) => (await one.getTask(id, 'a')).state));
        expect(running.filter((st) => st === 'running')).toHaveLength(2);
      } finally {
        await one.close();
        await two.close();
      }
    });

    it('never lets concurrent claimers take more of a namespace than its runs quota', async () => {
      const db = await harness.database();
      const [one, two] = [await db.open(), await db.open()];
      try {
        await one.putBudget({ ...budget, maxRuns: 2 });
        for (let i = 0; i < 8; i++) await one.createRun(newRun(`r${i}`, 1000 + i));
        const claimsOf = (store: AsyncStore, owner: string) =>
          Promise.all(Array.from({ length: 6 }, () => store.claimRun(owner, 2000, 60_000)));
        const results = (await Promise.all([claimsOf(one, 'w1'), claimsOf(two, 'w2')])).flat();
        const claimed = results.filter((c) => c !== null).map((c) => c.name);
        // Without the quota in the claim (and its lock on PostgreSQL) more than two are taken.
        expect(claimed.sort()).toEqual(['run:r0', 'run:r1']);
      } finally {
        await one.close();
        await two.close();
      }
    });
  });
}
