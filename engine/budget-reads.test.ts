import { describe, expect, it } from 'vitest';
import type { PlanTask } from '../core/index.ts';
import { BUDGET_FRESH_MS, BudgetReads } from './budget-reads.ts';
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
    for (let i = 0; i < 5; i++) expect((await reads.estimate(store, 'wf', task('a'))).ms).toBe(2000);
    await reads.estimate(store, 'wf', task('b'));
    expect(calls.durations).toBe(2);
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
    await expect(reads.estimate(store, 'wf', task('a'))).rejects.toThrow('down');
    await expect(reads.budget(store, 'ns', 0)).rejects.toThrow('down');
    failNext(false);
    expect((await reads.estimate(store, 'wf', task('a'))).ms).toBe(2000);
    expect((await reads.budget(store, 'ns', 1))?.limit).toBe(10);
    expect(calls).toEqual({ durations: 2, budget: 2 });
  });
});
