/**
 * Named prepared statements for the store's constant texts. node-pg sends a statement without a
 * name as Parse + Bind + Execute every time, so PostgreSQL parses and plans it on every call:
 * for the store's large CTEs that cost several times their execution (pg_stat_statements at
 * 100 runs/s: 2.3 ms of execution per run out of 9.4 ms of the server's CPU). With a name, each
 * connection parses it once (node-pg remembers per connection which names it has prepared, so a
 * connection replaced after a server restart prepares again on its first use) and PostgreSQL
 * may keep a generic plan. Parameter types are inferred at that parse exactly as for an unnamed
 * statement (node-pg sends no types either way).
 *
 * Only for texts that are constant, or one of a bounded set of variants (fenced or not; the run
 * listing's filters without labels, postgres-runs.ts): never a text that grows with a call's
 * values (an IN list, a label per filter), as every distinct text stays prepared on every
 * connection for the connection's life, an unbounded cache. Values that vary in shape go as
 * one parameter instead (a transition's patch as JSON, a result's moves as arrays). Named statements need a session per client: behind PgBouncer in transaction
 * mode that means PgBouncer 1.21 or later with `max_prepared_statements` set (docs/server.md).
 */
import { createHash } from 'node:crypto';

/** A statement text and its stable name (from a hash of the text, so equal texts share it). */
export interface Prepared {
  readonly name: string;
  readonly text: string;
}

/** Compute once, at module load (a constant), and pass to `query(statement, args)`. */
export function prepared(text: string): Prepared {
  return { name: `maestro_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`, text };
}
