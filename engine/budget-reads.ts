/**
 * What the budget guard reads from the store, kept per execution where that stays correct
 * (budget-guard.ts):
 * - A task's estimate (the p90 of its history, task-estimate.ts) is read once per task per
 *   execution, and shared by the engine's executions for `BUDGET_FRESH_MS`: the
 *   history is other attempts' finished durations; a figure a few attempts (or seconds) old
 *   changes an estimate's precision, never whether a limit holds. Shared because the read was
 *   the largest single statement of a short run (bench/scheduler: 3.1 ms of PostgreSQL's time
 *   per run, 8 % of SQLite's main thread), repeated for every run of the same workflow.
 * - The namespace's budget is re-read when the copy is older than `BUDGET_FRESH_MS`: an operator
 *   who lowers a limit (`maestro budgets set`) stops a long run's next attempts within seconds,
 *   not at its end, and a run of many short tasks reads it a few times, not once per attempt.
 * - The namespace's spend is never kept: other runs, on this replica and on others, start and
 *   finish attempts all the time, and a stale figure would let the namespace overspend by
 *   whatever they started since it was read. One SELECT per attempt, as before.
 * A read that fails is not kept: the next attempt asks the store again.
 */
import type { PlanTask } from '../core/index.ts';
import type { AsyncStore } from './store/async-store.ts';
import type { NamespaceBudget } from './store/store.ts';
import { estimateDuration, type Estimate } from './task-estimate.ts';

/** How long a namespace budget read is used before it is read again. */
export const BUDGET_FRESH_MS = 5_000;

interface Kept<T> {
  at: number;
  value: Promise<T>;
}

/** `kept` when it was read at most `BUDGET_FRESH_MS` before `now` (a clock gone back: not fresh). */
const fresh = <T>(kept: Kept<T> | undefined, now: number): kept is Kept<T> =>
  kept !== undefined && now - kept.at < BUDGET_FRESH_MS && now >= kept.at;

/**
 * Estimates shared by the executions of one engine (EngineContext.estimates), by workflow and
 * task id. A read is made through the store of the execution that asked first (its run's fenced
 * view); if it fails, that execution gets the error and no other does: they read through their
 * own (a run whose lease was lost meanwhile refuses every call, which must not fail another
 * run's task). Entries are replaced when stale, never swept: one per task id of the workflows
 * this process ran.
 */
export class SharedEstimates {
  readonly #byTask = new Map<string, Kept<Estimate>>();

  get(store: AsyncStore, workflow: string, task: PlanTask, now: number): Promise<Estimate> {
    const key = `${workflow}\0${task.id}`;
    const kept = this.#byTask.get(key);
    if (fresh(kept, now)) return kept.value.catch(() => estimateDuration(store, workflow, task));
    const entry = { at: now, value: estimateDuration(store, workflow, task) };
    this.#byTask.set(key, entry);
    entry.value.catch(() => {
      if (this.#byTask.get(key) === entry) this.#byTask.delete(key);
    });
    return entry.value;
  }
}

export class BudgetReads {
  readonly #estimates = new Map<string, Promise<Estimate>>();
  #budget: Kept<NamespaceBudget | undefined> | undefined;

  /** The task's expected duration: once per execution, and from `shared` if read there at most
   * `BUDGET_FRESH_MS` before `now`. */
  estimate(
    store: AsyncStore,
    workflow: string,
    task: PlanTask,
    now: number,
    shared: SharedEstimates,
  ): Promise<Estimate> {
    let kept = this.#estimates.get(task.id);
    if (!kept) {
      kept = shared.get(store, workflow, task, now);
      this.#estimates.set(task.id, kept);
      kept.catch(() => this.#estimates.delete(task.id));
    }
    return kept;
  }

  /** The namespace's budget as read at most `BUDGET_FRESH_MS` before `now`. */
  budget(store: AsyncStore, namespace: string, now: number): Promise<NamespaceBudget | undefined> {
    const kept = this.#budget;
    if (fresh(kept, now)) return kept.value;
    const value = store.getBudget(namespace);
    const entry = { at: now, value };
    this.#budget = entry;
    value.catch(() => {
      if (this.#budget === entry) this.#budget = undefined;
    });
    return value;
  }
}
