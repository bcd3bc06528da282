/**
 * The budget guard, before every attempt (after policy, before anything is staged): a run whose
 * plan has a `budget` (the workflow's `spec.budget`, a per-run limit) gets no new attempt whose
 * estimated cost would take the run past it. The task fails with reason `budget_exceeded` and a
 * message with the estimate, the limit and what is spent, in its log and its transition (which
 * the check run and the console show). Spent: every attempt of the run so far, priced by its
 * measured duration (one still running counts up to now), kept incrementally (run-spend.ts).
 * Estimate: the task's timeout, else one hour, at its runner and class's price in the engine's
 * price table (the operator's, else the default: docs/budgets.md). Fails closed: an estimate
 * that cannot be made is not a zero.
 */
import { Reason, TaskState } from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import { costOf, formatMoney } from './cost.ts';

/** A task without a timeout is estimated at one hour. */
export const DEFAULT_ESTIMATE_MS = 3_600_000;

export interface BudgetVerdict {
  allowed: boolean;
  message?: string;
}

/** Pure: the verdict for an attempt costing `estimate` on a run that spent `spent` of `limit`. */
export function budgetVerdict(
  limit: number,
  currency: string,
  spent: number,
  estimate: number,
): BudgetVerdict {
  if (spent + estimate <= limit) return { allowed: true };
  const money = (n: number) => formatMoney(n, currency);
  return {
    allowed: false,
    message: `budget exceeded: this task's estimated cost ${money(estimate)} plus ${money(spent)} already spent by the run is over its budget of ${money(limit)} (spec.budget)`,
  };
}

export async function checkBudget(exec: AttemptHost, taskId: string, attempt: number): Promise<boolean> {
  const budget = exec.run.plan.budget;
  if (!budget) return true;
  // Kept as the run goes (run-spend.ts): one read of the store per execution, not per attempt.
  const spent = await exec.spend.spentAt(exec.ctx.store, exec.ctx.clock.now());
  const task = exec.planTask(taskId);
  const estimate = costOf(
    exec.ctx.prices,
    task.runner,
    task.resources,
    task.timeoutMs ?? DEFAULT_ESTIMATE_MS,
  );
  const verdict = budgetVerdict(budget.limit, budget.currency, spent, estimate);
  if (verdict.allowed) return true;
  void exec.taskLog(taskId, attempt, 'system', verdict.message!);
  await exec.serial(() =>
    exec.transitionTask(
      taskId,
      TaskState.failed,
      Reason.budgetExceeded,
      'budget',
      undefined,
      verdict.message,
    ),
  );
  return false;
}
