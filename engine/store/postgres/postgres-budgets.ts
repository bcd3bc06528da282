/**
 * Namespace budgets, spend, the duration history, the tasks quota's turn and the usage report on
 * PostgreSQL: the shared SQL of budget-sql.ts with `$n` placeholders, each one statement.
 */
import * as budgets from '../budget-sql.ts';
import type { DurationQuery, NamespaceBudget, SpendQuery, UsageQuery, UsageRow } from '../store.ts';
import type { Row } from '../sqlite/rows.ts';
import type { Db } from './reconnect.ts';
import { prepared } from './prepared.ts';

const dollar = (n: number): string => `$${n}`;

const rowsOf = async (db: Db, text: string, args: unknown[] = []) => (await db.query<Row>(text, args)).rows;

export async function putBudget(db: Db, budget: NamespaceBudget): Promise<void> {
  const { text, args } = budgets.putBudgetSql(dollar, budget);
  await db.query(text, args);
}

export async function getBudget(db: Db, namespace: string): Promise<NamespaceBudget | undefined> {
  const row = (await db.query<Row>(GET_BUDGET, [namespace])).rows[0];
  return row ? budgets.toBudget(row) : undefined;
}

const GET_BUDGET = prepared('SELECT * FROM namespace_budgets WHERE namespace = $1');

export async function listBudgets(db: Db, namespaces?: readonly string[]): Promise<NamespaceBudget[]> {
  const rows = namespaces
    ? await rowsOf(db, 'SELECT * FROM namespace_budgets WHERE namespace = ANY($1) ORDER BY namespace', [
        namespaces,
      ])
    : await rowsOf(db, 'SELECT * FROM namespace_budgets ORDER BY namespace');
  return rows.map(budgets.toBudget);
}

export async function namespaceSpend(db: Db, query: SpendQuery): Promise<number> {
  const { text, args } = budgets.spendSql(dollar, query);
  return Number((await rowsOf(db, text, args))[0]?.spent ?? 0);
}

export async function taskDurations(db: Db, query: DurationQuery): Promise<number[]> {
  const { text, args } = budgets.durationsSql(dollar, query);
  return (await rowsOf(db, text, args)).map((r) => Number(r.ms));
}

export async function taskQuotaTurn(db: Db, runId: string, taskId: string, now: number): Promise<boolean> {
  const { text, args } = budgets.taskQuotaSql(dollar, runId, taskId, now);
  return !budgets.overTaskQuota(budgets.toTaskQuota((await rowsOf(db, text, args))[0]));
}

export async function usage(db: Db, query: UsageQuery): Promise<UsageRow[]> {
  const { text, args } = budgets.usageSql(dollar, query);
  return (await rowsOf(db, text, args)).map(budgets.toUsageRow);
}
