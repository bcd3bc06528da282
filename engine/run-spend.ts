/**
 * What a run has spent so far, for its budget guard (budget-guard.ts), kept as the run goes: the
 * cost of its finished attempts as one running total, and its running attempts by start time
 * (each counts up to now). Read from the store once per execution (the attempts before it:
 * earlier executions, interrupted ones), then updated by each attempt's start and result, so the
 * guard no longer lists every attempt of the run before every attempt (O(n²) reads over a run).
 * The same sum as the namespace's spend in the store: each attempt at the price per hour stored
 * with it (its placement's flavor; zero for a wait: task-price.ts) over
 * `(finishedAt ?? now) - startedAt`, with the times the store was given. An attempt stored
 * before prices were recorded is priced by its task's runner and class.
 */
import type { PlanTask } from '../core/index.ts';
import { DEFAULT_PRICE_TABLE, type PriceTable } from './cost.ts';
import type { AsyncStore } from './store/async-store.ts';
import { taskPricePerHour } from './task-price.ts';

interface Spend {
  /** Per hour, as stored with the attempt. */
  price: number;
  startedAt: number;
  /** Undefined while the attempt runs. */
  finishedAt?: number;
}

export class RunSpend {
  readonly #runId: string;
  readonly #planTask: (taskId: string) => PlanTask;
  readonly #prices: PriceTable;
  /** Every attempt seen, by id: a start or a result reported twice (load, then event) counts once. */
  readonly #attempts = new Map<string, Spend>();
  readonly #running = new Set<string>();
  #finished = 0;
  #loaded: Promise<void> | undefined;

  constructor(
    runId: string,
    planTask: (taskId: string) => PlanTask,
    prices: PriceTable = DEFAULT_PRICE_TABLE,
  ) {
    this.#runId = runId;
    this.#planTask = planTask;
    this.#prices = prices;
  }

  /** An attempt stored as started, at `pricePerHour` (as stored; absent: its task's price). */
  started(attemptId: string, taskId: string, startedAt: number, pricePerHour?: number): void {
    if (!this.#attempts.has(attemptId))
      this.#record(attemptId, { price: this.#price(taskId, pricePerHour), startedAt });
  }

  /** An attempt's result stored (its finish time as stored). */
  finished(
    attemptId: string,
    taskId: string,
    startedAt: number,
    finishedAt: number,
    pricePerHour?: number,
  ): void {
    const known = this.#attempts.get(attemptId);
    if (known?.finishedAt !== undefined) return;
    if (known) this.#running.delete(attemptId);
    const price = known?.price ?? this.#price(taskId, pricePerHour);
    this.#record(attemptId, { price, startedAt: known?.startedAt ?? startedAt, finishedAt });
  }

  /** Spent at `now`: the first call reads the attempts stored before this execution saw them. */
  async spentAt(store: AsyncStore, now: number): Promise<number> {
    this.#loaded ??= store.listAttempts(this.#runId).then((attempts) => {
      for (const a of attempts)
        if (!this.#attempts.has(a.id))
          this.#record(a.id, {
            price: this.#price(a.taskId, a.pricePerHour ?? undefined),
            startedAt: a.startedAt,
            ...(a.finishedAt === null ? {} : { finishedAt: a.finishedAt }),
          });
    });
    await this.#loaded;
    let spent = this.#finished;
    for (const id of this.#running) {
      const a = this.#attempts.get(id)!;
      spent += cost(a.price, now - a.startedAt);
    }
    return spent;
  }

  #record(attemptId: string, spend: Spend): void {
    this.#attempts.set(attemptId, spend);
    if (spend.finishedAt === undefined) this.#running.add(attemptId);
    else this.#finished += cost(spend.price, spend.finishedAt - spend.startedAt);
  }

  #price(taskId: string, stored: number | undefined): number {
    return stored ?? taskPricePerHour(this.#prices, this.#planTask(taskId));
  }
}

function cost(pricePerHour: number, ms: number): number {
  return (pricePerHour * Math.max(0, ms)) / 3_600_000;
}
