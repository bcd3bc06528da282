// What both drivers take and give back, so index.ts treats PostgreSQL and SQLite alike.
export type Param = string | number | boolean | null;

export interface Statement {
  sql: string;
  params?: readonly Param[];
}

export interface ExecutionPlan {
  statements: readonly Statement[];
  transaction: boolean;
  idempotencyKey: string | undefined;
  signal: AbortSignal;
}

export interface Execution {
  /** The idempotency key had been recorded by an earlier run: nothing ran, nothing changed. */
  skipped: boolean;
  /** The last statement's rows and their column names (in the database's order). */
  rows: Record<string, unknown>[];
  columns: string[];
  /** Rows inserted, updated or deleted, over every statement. */
  affected: number;
}

/** The one table both drivers record applied idempotency keys in. */
export const IDEMPOTENCY_TABLE = 'maestro_task_idempotency';

/** A driver's failure of statement `index`, naming it (never its params: they may be personal data). */
export function statementLabel(index: number, count: number): string {
  return count === 1 ? 'the statement' : `statement ${index + 1} of ${count} (/statements/${index})`;
}
