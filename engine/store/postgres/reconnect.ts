/**
 * Surviving a PostgreSQL restart or failover. A pooled connection the server closed while it sat
 * idle is only noticed when it is next used: the server's goodbye (`57P01` admin shutdown,
 * `57P02` crash shutdown, `57P03` cannot connect now) arrives instead of a result, before the
 * statement ran. Those are retried on a fresh connection (the broken one is destroyed, not
 * returned to the pool); so are serialization failures and deadlocks, which roll back. A
 * connection lost without such a message is ambiguous (a COMMIT may have landed) and is retried
 * only when nothing had been sent yet. While the server is down or starting (`ECONNREFUSED`,
 * `57P03` on connect) nothing was sent at all, so the connect is retried with a growing pause
 * for up to `unreachableMs` (a restart takes seconds): callers wait instead of failing.
 */
import type pg from 'pg';
import type { QueryResult, QueryResultRow } from 'pg';
import type { Prepared } from './prepared.ts';

const goneBeforeRunning = new Set(['57P01', '57P02', '57P03']);
const rolledBack = new Set(['40001', '40P01']);
const attempts = 4;
/** Stale plans are retried apart from `attempts`: each costs one connection, of a pool's few. */
const stalePlanAttempts = 16;
/** How long a call waits for an unreachable server before it fails (a restart, a failover). */
const unreachableMs = 30_000;

export const codeOf = (error: unknown): string | undefined => {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * A named statement (prepared.ts) prepared before a migration changed the columns it returns
 * (`SELECT *` on a table another version's pod added a column to, in a rolling upgrade):
 * PostgreSQL refuses the old plan and the statement did not run. The connection is discarded,
 * and with it what it had prepared, and the call runs again on another.
 */
export function stalePlan(error: unknown): boolean {
  return (
    codeOf(error) === '0A000' &&
    /cached plan must not change result type/.test(String((error as Error).message))
  );
}

/** Whether a failed statement certainly did not take effect and may run again. */
export function safeToRetry(error: unknown): boolean {
  const code = codeOf(error);
  return code !== undefined && (goneBeforeRunning.has(code) || rolledBack.has(code) || stalePlan(error));
}

/**
 * A connection-level failure: the client must be destroyed rather than reused. pg reports a lost
 * socket with no code ("Connection terminated unexpectedly"), or with Node's own (ECONNRESET,
 * EPIPE, ETIMEDOUT: `E` and capitals, which no SQLSTATE class is), or as class 08.
 */
export function brokenConnection(error: unknown): boolean {
  const code = codeOf(error);
  return (
    code === undefined ||
    goneBeforeRunning.has(code) ||
    code.startsWith('08') ||
    /^E[A-Z]+$/.test(code) ||
    stalePlan(error)
  );
}

/** A pool or a connection: a text sent as it is, or a named statement (prepared.ts). */
export interface Db {
  query<R extends QueryResultRow = Record<string, unknown>>(
    sql: string | Prepared,
    args?: unknown[],
  ): Promise<QueryResult<R>>;
}

/** The server refused the connection itself (down, or starting): nothing was sent. */
function unreachable(error: unknown): boolean {
  const code = codeOf(error);
  return code === 'ECONNREFUSED' || code === '57P03';
}

/** Runs `fn` again while the server is unreachable, pausing 50 ms doubling to 1 s, for `unreachableMs`. */
async function whileUnreachable<T>(fn: () => Promise<T>): Promise<T> {
  const until = Date.now() + unreachableMs;
  for (let pause = 50; ; pause = Math.min(1000, pause * 2)) {
    try {
      return await fn();
    } catch (error) {
      // Wall time paces the waiting only; no decision of the engine depends on it.
      if (!unreachable(error) || Date.now() + pause > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** Single statements on the pool, retried when the failure proves they did not run. */
export function retrying(pool: pg.Pool): Db {
  return {
    async query<R extends QueryResultRow>(
      sql: string | Prepared,
      args: unknown[] = [],
    ): Promise<QueryResult<R>> {
      // pool.query destroys the connection on any error, so a retry after a restart runs on a
      // fresh one, which prepares a named statement anew.
      const send = () =>
        typeof sql === 'string' ? pool.query<R>(sql, args) : pool.query<R>({ ...sql, values: args });
      for (let attempt = 1, stale = 0; ; attempt++) {
        try {
          return await whileUnreachable(send);
        } catch (error) {
          if (stalePlan(error) && ++stale < stalePlanAttempts) {
            attempt--; // not one of `attempts`
            continue;
          }
          if (attempt < attempts && safeToRetry(error)) continue;
          throw error;
        }
      }
    },
  };
}

/**
 * Runs `fn` in one transaction on one connection, retried as above. `opening` (SQL without
 * parameters, e.g. a fence check) is sent with the BEGIN in one round trip; `fn` gets its rows.
 */
export async function transaction<T>(
  pool: pg.Pool,
  fn: (c: pg.PoolClient, opened: QueryResultRow[]) => Promise<T>,
  opening?: string,
): Promise<T> {
  for (let attempt = 1, stale = 0; ; attempt++) {
    const c = await whileUnreachable(() => pool.connect());
    // A checked-out client reports its connection dying as an 'error' event as well as by
    // rejecting the pending query; without a listener that event would crash the process.
    const ignore = () => {};
    c.on('error', ignore);
    let sent = false;
    let failure: unknown;
    try {
      // Two statements in one simple query come back as one result each.
      const begun = (await c.query(opening ? `BEGIN; ${opening}` : 'BEGIN')) as unknown;
      sent = true;
      const result = await fn(c, opening ? (begun as QueryResult[])[1]!.rows : []);
      await c.query('COMMIT');
      return result;
    } catch (error) {
      failure = error;
      if (!brokenConnection(error)) await c.query('ROLLBACK').catch(() => {});
      if (stalePlan(error) && ++stale < stalePlanAttempts) {
        attempt--; // not one of `attempts`
        continue;
      }
      if (attempt < attempts && (safeToRetry(error) || (!sent && brokenConnection(error)))) continue;
      throw error;
    } finally {
      c.off('error', ignore);
      c.release(failure !== undefined && brokenConnection(failure) ? (failure as Error) : undefined);
    }
  }
}
