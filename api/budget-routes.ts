/**
 * Namespace budgets and usage (docs/budgets.md): PUT/GET /v1/budgets/{namespace}, GET
 * /v1/budgets and GET /v1/usage. The engine store holds the budgets (every replica's guard and
 * claim read the same row); the routes check the caller's namespaces, so a namespace-limited
 * token neither sets nor reads another namespace's budget or usage.
 */
import type { ApiBody } from '../core/index.ts';
import {
  DEFAULT_PRICE_TABLE,
  budgetOf,
  budgetView,
  usageReport,
  type NamespaceBudget,
} from '../engine/index.ts';
import type { ApiContext } from './api-context.ts';
import { assertNamespace, type Caller } from './auth.ts';
import { ApiError } from './problem.ts';
import { parseTime } from './run-routes.ts';

const view = (ctx: ApiContext, budget: NamespaceBudget) =>
  budgetView(ctx.runtime.store, budget, ctx.clock.now());

export async function putBudget(
  ctx: ApiContext,
  caller: Caller,
  namespace: string,
  body: ApiBody.BudgetSet,
): Promise<ApiBody.Budget> {
  assertNamespace(caller, namespace);
  const budget = budgetOf(namespace, body, caller.user, ctx.clock.now());
  await ctx.runtime.store.putBudget(budget);
  ctx.logger.info({ namespace, by: caller.user, budget }, 'namespace budget set');
  return view(ctx, budget);
}

export async function getBudget(ctx: ApiContext, caller: Caller, namespace: string): Promise<ApiBody.Budget> {
  assertNamespace(caller, namespace);
  const budget = await ctx.runtime.store.getBudget(namespace);
  if (!budget)
    throw new ApiError(404, 'budget_not_found', `namespace ${namespace} has no budget`, {
      hint: `set one with maestro budgets set ${namespace} --limit 50 --currency USD --period month`,
    });
  return view(ctx, budget);
}

export async function listBudgets(
  ctx: ApiContext,
  caller: Caller,
  namespace?: string,
): Promise<ApiBody.BudgetList> {
  if (namespace !== undefined) assertNamespace(caller, namespace);
  const only =
    namespace !== undefined ? [namespace] : caller.namespaces.length ? caller.namespaces : undefined;
  const budgets = await ctx.runtime.store.listBudgets(only);
  return { items: await Promise.all(budgets.map((b) => view(ctx, b))) };
}

export async function getUsage(
  ctx: ApiContext,
  caller: Caller,
  query: ApiBody.UsageQuery,
): Promise<ApiBody.UsageReport> {
  if (query.namespace !== undefined) assertNamespace(caller, query.namespace);
  const namespaces =
    query.namespace !== undefined
      ? [query.namespace]
      : caller.namespaces.length
        ? caller.namespaces
        : undefined;
  const report = await usageReport(ctx.runtime.store, {
    now: ctx.clock.now(),
    ...(query.since ? { since: parseTime(query.since, 'since')! } : {}),
    ...(query.until ? { until: parseTime(query.until, 'until')! } : {}),
    groupBy: query.groupBy ?? 'namespace',
    ...(namespaces ? { namespaces } : {}),
    currency: (ctx.runtime.config.prices ?? DEFAULT_PRICE_TABLE).currency,
  });
  return report;
}
