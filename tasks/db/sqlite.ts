// The statements on SQLite (node:sqlite), a file in the workspace. Params bind to `?`; booleans
// become 1 and 0 (SQLite has no boolean type). BEGIN IMMEDIATE takes the write lock at once, so a
// concurrent writer with the same idempotency key waits rather than both applying.
import { DatabaseSync } from 'node:sqlite';
import { TaskError } from '../../sdk/index.ts';
import {
  IDEMPOTENCY_TABLE,
  statementLabel,
  type Execution,
  type ExecutionPlan,
  type Param,
} from './statements.ts';

export function runSqlite(file: string, plan: ExecutionPlan): Execution {
  let database: DatabaseSync;
  try {
    database = new DatabaseSync(file, { timeout: 10_000 });
  } catch (error) {
    throw new TaskError('db_connect_failed', `cannot open the SQLite database: ${(error as Error).message}`, {
      hint: 'url is the database file, relative to the workspace; its folder must exist',
      cause: error,
    });
  }
  try {
    if (plan.idempotencyKey !== undefined)
      database.exec(
        `CREATE TABLE IF NOT EXISTS ${IDEMPOTENCY_TABLE} (key TEXT PRIMARY KEY, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ')))`,
      );
    if (plan.transaction) database.exec('BEGIN IMMEDIATE');
    try {
      if (plan.idempotencyKey !== undefined) {
        const claimed = database
          .prepare(`INSERT INTO ${IDEMPOTENCY_TABLE} (key) VALUES (?) ON CONFLICT (key) DO NOTHING`)
          .run(plan.idempotencyKey);
        if (Number(claimed.changes) === 0) {
          database.exec('ROLLBACK');
          return { skipped: true, rows: [], columns: [], affected: 0 };
        }
      }
      const done = runAll(database, plan);
      if (plan.transaction) database.exec('COMMIT');
      return done;
    } catch (error) {
      if (plan.transaction && database.isTransaction) database.exec('ROLLBACK');
      throw error;
    }
  } finally {
    database.close();
  }
}

function runAll(database: DatabaseSync, plan: ExecutionPlan): Execution {
  let rows: Record<string, unknown>[] = [];
  let columns: string[] = [];
  let affected = 0;
  for (const [index, statement] of plan.statements.entries()) {
    plan.signal.throwIfAborted();
    const params = (statement.params ?? []).map(bindable);
    try {
      const prepared = database.prepare(statement.sql);
      columns = prepared.columns().map((c) => c.name);
      // total_changes() before and after: counts an INSERT … RETURNING too, which returns rows.
      const before = totalChanges(database);
      if (columns.length > 0) rows = prepared.all(...params) as Record<string, unknown>[];
      else {
        rows = [];
        prepared.run(...params);
      }
      affected += totalChanges(database) - before;
    } catch (error) {
      throw new TaskError(
        'db_statement_failed',
        `${statementLabel(index, plan.statements.length)} failed: ${(error as Error).message}`,
        { hint: 'fix the SQL or its params; the transaction was rolled back, nothing changed', cause: error },
      );
    }
  }
  return { skipped: false, rows, columns, affected };
}

function totalChanges(database: DatabaseSync): number {
  return Number((database.prepare('SELECT total_changes() AS n').get() as { n: number }).n);
}

function bindable(value: Param): string | number | null {
  return typeof value === 'boolean' ? (value ? 1 : 0) : value;
}
