/**
 * A namespace budget as the API and the CLI show it (ApiBody.Budget): its row with the current
 * period's start and what the namespace spent in it. One function, so `maestro budgets show` on
 * the store and GET /v1/budgets/{namespace} print the same numbers.
 */
import type { ApiBody } from '../core/index.ts';
import { periodStart } from './budget-period.ts';
import type { AsyncStore } from './store/async-store.ts';
import type { NamespaceBudget } from './store/store.ts';

const iso = (ms: number) => new Date(ms).toISOString();

export async function budgetView(
  store: AsyncStore,
  budget: NamespaceBudget,
  now: number,
): Promise<ApiBody.Budget> {
  const since = periodStart(budget.period, now);
  const spent = await store.namespaceSpend({ namespace: budget.namespace, since, now });
  return { ...budget, updatedAt: iso(budget.updatedAt), periodStart: iso(since), spent };
}

/** The budget a BudgetSet body (or the CLI's flags) describes. */
export function budgetOf(
  namespace: string,
  set: ApiBody.BudgetSet,
  by: string,
  now: number,
): NamespaceBudget {
  return {
    namespace,
    limit: set.limit ?? null,
    currency: set.currency,
    period: set.period,
    soft: set.soft ?? null,
    maxRuns: set.maxRuns ?? null,
    maxTasks: set.maxTasks ?? null,
    updatedAt: now,
    updatedBy: by,
  };
}
