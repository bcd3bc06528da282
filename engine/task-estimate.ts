/**
 * How long the budget guard expects an attempt to take (docs/budgets.md): the p90 of the task's
 * previous attempts (the same workflow and task id, newest 100 that ran to their own end), else
 * its timeout, else one hour. The p90 rather than the mean: one budget refusal too many is
 * cheaper to mend than a month overspent by tasks that usually run long.
 */
import type { PlanTask } from '../core/index.ts';
import type { AsyncStore } from './store/async-store.ts';

/** A task with no history and no timeout is estimated at one hour. */
export const DEFAULT_ESTIMATE_MS = 3_600_000;

/** The nearest-rank p90 of `samples` (undefined when there are none). */
export function p90(samples: readonly number[]): number | undefined {
  if (samples.length === 0) return undefined;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.ceil(0.9 * sorted.length) - 1];
}

export interface Estimate {
  ms: number;
  /** What the estimate came from, for the guard's message. */
  source: 'history' | 'timeout' | 'default';
}

export async function estimateDuration(
  store: AsyncStore,
  workflow: string,
  task: PlanTask,
): Promise<Estimate> {
  const history = p90(await store.taskDurations({ workflow, taskId: task.id }));
  if (history !== undefined) return { ms: history, source: 'history' };
  if (task.timeoutMs !== undefined && task.timeoutMs !== null)
    return { ms: task.timeoutMs, source: 'timeout' };
  return { ms: DEFAULT_ESTIMATE_MS, source: 'default' };
}
