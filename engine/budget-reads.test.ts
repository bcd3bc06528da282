import { describe, expect, it } from 'vitest';
import type { PlanTask } from '../core/index.ts';
import { BUDGET_FRESH_MS, BudgetReads, SharedEstimates } from './budget-reads.ts';
import type { AsyncStore } from './store/async-store.ts';
import type { NamespaceBudget } from './store/store.ts';

const task = (id: string) => ({ id, timeoutMs: 60_000 }) as PlanTask;

/** A store that counts the guard's reads; `fail` makes the next one of each reject. */
function counting() {
  const calls = { durations: 0, budget: 0 };
  let fail = false;
  let limit = 10;
  const store = {
    taskDurations: () => {
      calls.durations++;
      return fail ? Promise.reject(new Error('down')) : Promise.resolve([1000, 2000]);
    },
    getBudget: () => {
      calls.budget++;
      if (fail) return Promise.reject(new Error('down'));
      return Promise.resolve({ namespace: 'ns', limit } as NamespaceBudget);
    },
  } as unknown as AsyncStore;
  return { store, calls, failNext: (f: boolean) => (fail = f), setLimit: (n: number) => (limit = n) };
}

describe('BudgetReads: the guard’s reads kept per execution', () => {
  it('reads a task’s history once per execution, per task', async () => {
    const { store, calls } = counting();
    const reads = new BudgetReads();
    // A shared copy read at 0 is stale at BUDGET_FRESH_MS; the execution's own is not.
    for (let i = 0; i < 5; i++)
      expect(
        (await reads.estimate(store, 'wf', task('a'), i * BUDGET_FRESH_MS, new SharedEstimates())).ms,
      ).toBe(2000);
    await reads.estimate(store, 'wf', task('b'), 0, new SharedEstimates());
    expect(calls.durations).toBe(2);
  });

  it('shares a task’s estimate between executions on one store for BUDGET_FRESH_MS, then reads it again', async () => {
    const { store, calls } = counting();
    const shared = new SharedEstimates();
    const execution = () => new BudgetReads();
    for (let i = 0; i < 5; i++) await execution().estimate(store, 'wf', task('a'), i * 1000, shared);
    expect(calls.durations).toBe(1);
    // Another workflow's task of the same id has its own history; another engine its own copy.
    await execution().estimate(store, 'other', task('a'), 0, shared);
    await execution().estimate(store, 'wf', task('a'), 0, new SharedEstimates());
    expect(calls.durations).toBe(3);
    await execution().estimate(store, 'wf', task('a'), BUDGET_FRESH_MS, shared);
    expect(calls.durations).toBe(4);
    // A clock gone back (another replica's time) is not fresh either.
    await execution().estimate(store, 'wf', task('a'), 0, shared);
    expect(calls.durations).toBe(5);
  });

  it('re-reads the namespace budget once its copy is older than BUDGET_FRESH_MS, so a lowered limit bites', async () => {
    const { store, calls, setLimit } = counting();
    const reads = new BudgetReads();
    expect((await reads.budget(store, 'ns', 0))?.limit).toBe(10);
    setLimit(1);
    expect((await reads.budget(store, 'ns', BUDGET_FRESH_MS - 1))?.limit).toBe(10);
    expect(calls.budget).toBe(1);
    expect((await reads.budget(store, 'ns', BUDGET_FRESH_MS))?.limit).toBe(1);
    // A clock that went back (another replica's time) is not "fresh": read again.
    expect((await reads.budget(store, 'ns', 0))?.limit).toBe(1);
    expect(calls.budget).toBe(3);
  });

  it('keeps no failed read: the next attempt asks the store again', async () => {
    const { store, calls, failNext } = counting();
    const reads = new BudgetReads();
    failNext(true);
    const shared = new SharedEstimates();
    await expect(reads.estimate(store, 'wf', task('a'), 0, shared)).rejects.toThrow('down');
    await expect(reads.budget(store, 'ns', 0)).rejects.toThrow('down');
    failNext(false);
    // Nor is it shared: another execution asks too.
    expect((await new BudgetReads().estimate(store, 'wf', task('a'), 0, shared)).ms).toBe(2000);
    expect((await reads.estimate(store, 'wf', task('a'), 0, shared)).ms).toBe(2000);
    expect((await reads.budget(store, 'ns', 1))?.limit).toBe(10);
    expect(calls).toEqual({ durations: 2, budget: 2 });
  });

  it('fails only the execution whose store failed: one that joined its estimate reads through its own', async () => {
    const lost = counting();
    lost.failNext(true); // the first execution's run lease was lost: its store refuses every call
    const live = counting();
    const shared = new SharedEstimates();
    const first = new BudgetReads().estimate(lost.store, 'wf', task('a'), 0, shared);
    const joined = new BudgetReads().estimate(live.store, 'wf', task('a'), 1, shared);
    await expect(first).rejects.toThrow('down');
    expect((await joined).ms).toBe(2000);
    expect(live.calls.durations).toBe(1);
  });
});
