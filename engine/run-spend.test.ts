import { describe, expect, it } from 'vitest';
import type { PlanTask } from '../core/index.ts';
import { costOf, type PriceTable } from './cost.ts';
import { RunSpend } from './run-spend.ts';
import type { AsyncStore } from './store/async-store.ts';
import type { AttemptRecord } from './store/store.ts';

const prices: PriceTable = { currency: 'USD', perHour: { '*': { small: 3.6, large: 36 } } };
const tasks: Record<string, Pick<PlanTask, 'runner' | 'resources' | 'action'>> = {
  a: { runner: 'local', resources: 'small', action: { type: 'shell', script: 'true' } },
  b: { runner: 'local', resources: 'large', action: { type: 'shell', script: 'true' } },
};
const planTask = (id: string) => tasks[id] as PlanTask;
const cost = (id: string, ms: number) => costOf(prices, 'local', tasks[id]!.resources, ms);

/** A store holding `stored` attempts that counts how often the run's attempts are listed. */
function storeOf(stored: Partial<AttemptRecord>[]) {
  let listings = 0;
  const store = {
    listAttempts: () => {
      listings++;
      return Promise.resolve(stored as AttemptRecord[]);
    },
  } as unknown as AsyncStore;
  return { store, listings: () => listings };
}

describe('RunSpend: a run’s spend kept as it goes', () => {
  it('adds what was stored before to what this execution starts and finishes, reading the store once', async () => {
    // From an earlier execution: one finished attempt, one interrupted (finished), one still running.
    const { store, listings } = storeOf([
      { id: 'x1', taskId: 'a', startedAt: 0, finishedAt: 1000 },
      { id: 'x2', taskId: 'b', startedAt: 1000, finishedAt: 1500 },
      { id: 'x3', taskId: 'a', startedAt: 2000, finishedAt: null },
    ]);
    const spend = new RunSpend('r1', planTask, prices);
    expect(await spend.spentAt(store, 3000)).toBeCloseTo(cost('a', 1000) + cost('b', 500) + cost('a', 1000));
    // This execution: the old running one finishes, a new one starts and runs, another finishes.
    spend.finished('x3', 'a', 2000, 4000);
    spend.started('y1', 'b', 3500);
    spend.started('y2', 'a', 3600);
    spend.finished('y2', 'a', 3600, 3700);
    // Reported twice (a start seen both in the listing and as an event): counted once.
    spend.started('y1', 'b', 3500);
    spend.finished('y2', 'a', 3600, 3700);
    const at = 5000;
    expect(await spend.spentAt(store, at)).toBeCloseTo(
      cost('a', 1000) + cost('b', 500) + cost('a', 2000) + cost('b', at - 3500) + cost('a', 100),
    );
    for (let i = 0; i < 50; i++) await spend.spentAt(store, at);
    expect(listings()).toBe(1);
  });

  it('counts an attempt started before the first read once, whether or not the listing has it', async () => {
    const { store } = storeOf([{ id: 'z1', taskId: 'a', startedAt: 0, finishedAt: null }]);
    const spend = new RunSpend('r1', planTask, prices);
    spend.started('z1', 'a', 0);
    spend.started('z2', 'a', 500);
    expect(await spend.spentAt(store, 1000)).toBeCloseTo(cost('a', 1000) + cost('a', 500));
  });
});
