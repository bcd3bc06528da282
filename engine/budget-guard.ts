/**
 * The budget guard, before every attempt (after policy, before anything is staged): no new
 * attempt whose estimated cost would take its run past the workflow's `spec.budget` (a per-run
 * limit), or its namespace past the namespace's budget for the period (`maestro budgets set`).
 * A refusal fails the task with reason `budget_exceeded` and a message with the estimate, the
 * limit and what is spent, in its log and its transition (which the check run and the console
 * show). Past a namespace budget's soft threshold the attempt runs, with a warning in its log
 * and on its `started` transition.
 *
 * Run spent: every attempt of the run so far, priced by its measured duration (one still running
 * counts up to now), kept incrementally (run-spend.ts). Namespace spent: the store's sum of the
 * namespace's attempts started in the period (price per hour × measured time). Estimate: the
 * task's p90 from its history, else its timeout, else one hour (task-estimate.ts), at the price
 * the attempt will be charged (task-price.ts: its placement's flavor, or its runner and class in
 * the engine's price table; zero for wait and approval tasks, which hold no compute, and which
 * the guard therefore lets through without reading anything). Fails closed: a namespace budget in another
 * currency than the price table cannot be compared, so the attempt is refused.
 */
import { Reason, TaskState, type Plan } from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import { periodStart, periodWord } from './budget-period.ts';
import { formatMoney, type BudgetPass } from './cost.ts';
import type { AttemptPlacement } from './placement/choose-placement.ts';
import type { NamespaceBudget } from './store/store.ts';
import { taskPricePerHour } from './task-price.ts';

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

/** Pure: the verdict of a namespace budget for an attempt costing `estimate` (in `currency`). */
export function namespaceVerdict(
  budget: NamespaceBudget,
  currency: string,
  spent: number,
  estimate: number,
): BudgetVerdict & { warning?: string } {
  const ns = budget.namespace;
  if (budget.limit === null) return { allowed: true };
  if (budget.currency !== currency)
    return {
      allowed: false,
      message: `budget exceeded: namespace ${ns}'s budget is in ${budget.currency} but the price table is in ${currency}, so this task's cost cannot be checked against it (maestro budgets set ${ns} --currency ${currency})`,
    };
  const money = (n: number) => formatMoney(n, currency);
  const limit = `${money(budget.limit)} ${budget.period === 'day' ? 'per day' : `per ${budget.period}`}`;
  const said = `this task's estimated cost ${money(estimate)} plus ${money(spent)} already spent by namespace ${ns} ${periodWord(budget.period)}`;
  if (spent + estimate > budget.limit)
    return {
      allowed: false,
      message: `budget exceeded: ${said} is over its budget of ${limit} (maestro budgets)`,
    };
  if (budget.soft !== null && spent + estimate > budget.soft * budget.limit)
    return {
      allowed: true,
      warning: `budget warning: ${said} is past ${Math.round(budget.soft * 100)}% of its budget of ${limit}`,
    };
  return { allowed: true };
}

async function refuse(
  exec: AttemptHost,
  taskId: string,
  attempt: number,
  message: string,
): Promise<undefined> {
  void exec.taskLog(taskId, attempt, 'system', message);
  await exec.serial(() =>
    exec.transitionTask(taskId, TaskState.failed, Reason.budgetExceeded, 'budget', undefined, message),
  );
  return undefined;
}

/**
 * The attempt's price and estimate when it may start; undefined when the guard failed the task.
 * `placement`: the flavor price-aware placement chose, whose price is the one stored and charged.
 */
export async function checkBudget(
  exec: AttemptHost,
  taskId: string,
  attempt: number,
  placement?: AttemptPlacement,
): Promise<BudgetPass | undefined> {
  const { ctx, run } = exec;
  const task = exec.planTask(taskId);
  const price = taskPricePerHour(ctx.prices, task, placement);
  // Nothing that costs nothing can take a budget past its limit (a wait, an approval): no reads.
  if (price === 0) return { pricePerHour: 0, estimatedCost: 0 };
  const now = ctx.clock.now();
  // Both reads at once (each a round trip on PostgreSQL when not kept: budget-reads.ts).
  const [estimate, ns] = await Promise.all([
    exec.budgetReads.estimate(ctx.store, run.workflow, task, now, ctx.estimates),
    exec.budgetReads.budget(ctx.store, run.namespace, now),
  ]);
  const estimatedCost = (price * estimate.ms) / 3_600_000;
  const budget: Plan['budget'] = run.plan.budget;
  if (budget) {
    // Kept as the run goes (run-spend.ts): one read of the store per execution, not per attempt.
    const spent = await exec.spend.spentAt(ctx.store, now);
    const verdict = budgetVerdict(budget.limit, budget.currency, spent, estimatedCost);
    if (!verdict.allowed) return refuse(exec, taskId, attempt, verdict.message!);
  }
  const pass: BudgetPass = { pricePerHour: price, estimatedCost };
  if (!ns) return pass;
  const since = periodStart(ns.period, now);
  // Always read fresh: other runs and replicas spend meanwhile (budget-reads.ts says why).
  const spent = await ctx.store.namespaceSpend({ namespace: run.namespace, since, now });
  const verdict = namespaceVerdict(ns, ctx.prices.currency, spent, estimatedCost);
  if (!verdict.allowed) return refuse(exec, taskId, attempt, verdict.message!);
  if (verdict.warning) void exec.taskLog(taskId, attempt, 'system', verdict.warning);
  return verdict.warning ? { ...pass, warning: verdict.warning } : pass;
}
