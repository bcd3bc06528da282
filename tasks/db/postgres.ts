// The statements on PostgreSQL, over one connection (pg). Params go as the protocol's bind
// values ($1, $2), never into the SQL text. A cancel ends the connection, which makes the server
// roll back the open transaction.
import type pg from 'pg';
import { TaskError } from '../../sdk/index.ts';
import { IDEMPOTENCY_TABLE, statementLabel, type Execution, type ExecutionPlan } from './statements.ts';

/** Commands whose rowCount is rows changed (a SELECT's is rows returned). */
const CHANGES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE', 'COPY']);

export async function runPostgres(url: string, plan: ExecutionPlan): Promise<Execution> {
  // pg is loaded here, not at start-up: a run without a postgres db task never needs it.
  const { default: driver } = await import('pg');
  const client = new driver.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  // An idle connection's error (the server went away) must not crash the task's process.
  client.on('error', () => undefined);
  const onAbort = () => void client.end().catch(() => undefined);
  try {
    await client.connect();
  } catch (error) {
    throw new TaskError('db_connect_failed', `cannot connect to PostgreSQL: ${reasonOf(error)}`, {
      fault: 'user',
      retryable: true,
      hint: 'check the host, port, user, database and password of the URL, and that the server is up',
      cause: error,
    });
  }
  plan.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await inSession(client, plan);
  } finally {
    plan.signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

async function inSession(client: pg.Client, plan: ExecutionPlan): Promise<Execution> {
  if (plan.idempotencyKey !== undefined)
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${IDEMPOTENCY_TABLE} (key text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
  if (plan.transaction) await client.query('BEGIN');
  try {
    if (plan.idempotencyKey !== undefined) {
      // A concurrent run holding the same key waits here on the primary key until the first
      // commits (then finds it) or rolls back (then takes it): at most one applies.
      const claimed = await client.query(
        `INSERT INTO ${IDEMPOTENCY_TABLE} (key) VALUES ($1) ON CONFLICT (key) DO NOTHING`,
        [plan.idempotencyKey],
      );
      if (claimed.rowCount === 0) {
        await client.query('ROLLBACK');
        return { skipped: true, rows: [], columns: [], affected: 0 };
      }
    }
    const done = await runAll(client, plan);
    if (plan.transaction) await client.query('COMMIT');
    return done;
  } catch (error) {
    if (plan.transaction) await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

async function runAll(client: pg.Client, plan: ExecutionPlan): Promise<Execution> {
  let last: pg.QueryResult | undefined;
  let affected = 0;
  for (const [index, statement] of plan.statements.entries()) {
    plan.signal.throwIfAborted();
    try {
      last = await client.query({ text: statement.sql, values: [...(statement.params ?? [])] });
    } catch (error) {
      if (plan.signal.aborted) throw plan.signal.reason;
      throw new TaskError(
        'db_statement_failed',
        `${statementLabel(index, plan.statements.length)} failed: ${reasonOf(error)}`,
        { hint: 'fix the SQL or its params; the transaction was rolled back, nothing changed', cause: error },
      );
    }
    if (CHANGES.has(last.command)) affected += last.rowCount ?? 0;
  }
  return {
    skipped: false,
    rows: (last?.rows ?? []) as Record<string, unknown>[],
    columns: (last?.fields ?? []).map((f) => f.name),
    affected,
  };
}

/** The server's message and SQLSTATE (never the URL or the params, which pg does not put there). */
function reasonOf(error: unknown): string {
  const { message, code } = error as { message?: string; code?: string };
  return `${message ?? String(error)}${code ? ` (SQLSTATE ${code})` : ''}`;
}
