import { DatabaseSync } from 'node:sqlite';
import { ensurePrivateDatabaseFile } from '../../core/index.ts';
import { DecisionLogError } from '../errors.ts';
import { GENESIS_HASH, hashEntry, type DecisionLogEntry, type DecisionRecord } from './entry.ts';
import { verifyChain, type VerifyReport } from './verify-chain.ts';

/**
 * The decision log's table. Storage lives here, in policy/, rather than in the engine's store:
 * the log's guarantees (append-only, hash-chained) are the policy gate's promise, so the code
 * that keeps them sits beside the gate. It shares the engine's database file (pass its
 * DatabaseSync) so one file holds a run and the decisions about it. Triggers make SQLite itself
 * refuse UPDATE and DELETE, and refuse an INSERT that does not continue the chain.
 */
const SCHEMA = `
CREATE TABLE IF NOT EXISTS policy_decision_log (
  seq INTEGER PRIMARY KEY,
  decision_id TEXT NOT NULL UNIQUE,
  time TEXT NOT NULL,
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  delivery_id TEXT,
  input_digest TEXT NOT NULL,
  bundle_digest TEXT NOT NULL,
  allow INTEGER NOT NULL,
  unavailable INTEGER NOT NULL,
  reasons TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL UNIQUE
) STRICT;
CREATE TRIGGER IF NOT EXISTS policy_decision_log_no_update BEFORE UPDATE ON policy_decision_log
BEGIN SELECT RAISE(ABORT, 'policy_decision_log is append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS policy_decision_log_no_delete BEFORE DELETE ON policy_decision_log
BEGIN SELECT RAISE(ABORT, 'policy_decision_log is append-only: DELETE refused'); END;
CREATE TRIGGER IF NOT EXISTS policy_decision_log_chain BEFORE INSERT ON policy_decision_log
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM policy_decision_log)
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM policy_decision_log ORDER BY seq DESC LIMIT 1), '${GENESIS_HASH}')
BEGIN SELECT RAISE(ABORT, 'policy_decision_log insert does not continue the chain'); END;
CREATE INDEX IF NOT EXISTS policy_decision_log_by_run ON policy_decision_log (run_id, seq);
`;

/**
 * The decision log port (asynchronous): this SQLite implementation, and PostgreSQL's in
 * engine/store/postgres/postgres-decision-log.ts (where the pool and migrations live), held to
 * one contract (test/store-contract/decision-log-contract.ts). Both databases themselves refuse
 * UPDATE, DELETE and an INSERT that does not continue the chain.
 */
export interface DecisionLog {
  /** Appends one decision; rejects with DecisionLogError when it cannot be recorded. */
  append(record: DecisionRecord): Promise<DecisionLogEntry>;
  /** Every entry in seq order (row order of the table). */
  entries(): Promise<DecisionLogEntry[]>;
  /** One run's entries in seq order (the run page's policy decisions), by an index on run_id. */
  entriesOf(runId: string): Promise<DecisionLogEntry[]>;
  /** The live log's chain check. */
  verify(): Promise<VerifyReport>;
  /** Closes the database only when this log opened it from a path (or a pool). */
  close(): Promise<void>;
}

interface Row {
  seq: number;
  decision_id: string;
  time: string;
  run_id: string;
  task_id: string;
  attempt: number;
  delivery_id: string | null;
  input_digest: string;
  bundle_digest: string;
  allow: number;
  unavailable: number;
  reasons: string;
  prev_hash: string;
  hash: string;
}

/**
 * How the log's statements reach a database it shares: `write` for an append. The engine's store
 * passes its group commit (engine/store/sqlite/group-commit.ts), so an append joins the batch of
 * the attempt start it allows and is answered only after that batch's COMMIT. Without it each
 * call runs at once (an append in a transaction of its own, or a savepoint of the caller's).
 */
export type Through = <T>(fn: () => T, write: boolean) => Promise<T>;

const atOnce: Through = async (fn) => fn();

/** Opens (and creates if needed) the decision log in a SQLite database: a DatabaseSync or a file path. */
export function openDecisionLog(database: DatabaseSync | string, through: Through = atOnce): DecisionLog {
  const owned = typeof database === 'string';
  let db: DatabaseSync;
  try {
    // busy timeout: the engine's own connection may hold the write lock for a moment.
    if (owned) ensurePrivateDatabaseFile(database); // 0600, with its -wal and -shm
    db = owned ? new DatabaseSync(database, { timeout: 5000 }) : database;
    db.exec(SCHEMA);
  } catch (error) {
    throw new DecisionLogError(`cannot open the decision log: ${(error as Error).message}`, { cause: error });
  }
  const last = db.prepare('SELECT seq, hash FROM policy_decision_log ORDER BY seq DESC LIMIT 1');
  const insert = db.prepare(
    `INSERT INTO policy_decision_log (seq, decision_id, time, run_id, task_id, attempt, delivery_id,
       input_digest, bundle_digest, allow, unavailable, reasons, prev_hash, hash)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const all = db.prepare('SELECT * FROM policy_decision_log ORDER BY seq');
  const ofRun = db.prepare('SELECT * FROM policy_decision_log WHERE run_id = ? ORDER BY seq');

  const append = (record: DecisionRecord): DecisionLogEntry => {
    // A savepoint works inside the engine's own transaction as well as outside one.
    let outer = true;
    try {
      outer = !db.isTransaction; // throws on a closed database: still a DecisionLogError below
      db.exec(outer ? 'BEGIN IMMEDIATE' : 'SAVEPOINT policy_log_append');
      const head = last.get() as { seq: number; hash: string } | undefined;
      const content = { ...record, seq: (head?.seq ?? 0) + 1, prevHash: head?.hash ?? GENESIS_HASH };
      const entry: DecisionLogEntry = { ...content, hash: hashEntry(content) };
      insert.run(
        entry.seq,
        entry.decisionId,
        entry.time,
        entry.runId,
        entry.taskId,
        entry.attempt,
        entry.deliveryId,
        entry.inputDigest,
        entry.bundleDigest,
        entry.allow ? 1 : 0,
        entry.unavailable ? 1 : 0,
        JSON.stringify(entry.reasons),
        entry.prevHash,
        entry.hash,
      );
      db.exec(outer ? 'COMMIT' : 'RELEASE policy_log_append');
      return entry;
    } catch (error) {
      try {
        if (outer && db.isOpen && db.isTransaction) db.exec('ROLLBACK');
        if (!outer) db.exec('ROLLBACK TO policy_log_append; RELEASE policy_log_append');
      } catch {
        // the original error is the one worth reporting
      }
      throw new DecisionLogError(
        `cannot record policy decision ${record.decisionId}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  };

  // node:sqlite is synchronous: each method runs when `through` runs it.
  const entries = () => (all.all() as unknown as Row[]).map(fromRow);
  return {
    append: (record) =>
      through(() => append(record), true).catch((error: unknown) => {
        // The batch's COMMIT failed (a full disk): not recorded, so the task must not run.
        if (error instanceof DecisionLogError) throw error;
        throw new DecisionLogError(
          `cannot record policy decision ${record.decisionId}: ${(error as Error).message}`,
          { cause: error },
        );
      }),
    entries: () => through(entries, false),
    entriesOf: (runId) => through(() => (ofRun.all(runId) as unknown as Row[]).map(fromRow), false),
    verify: () => through(() => verifyChain(entries()), false),
    close: async () => {
      if (owned && db.isOpen) db.close();
    },
  };
}

function fromRow(row: Row): DecisionLogEntry {
  return {
    seq: row.seq,
    decisionId: row.decision_id,
    time: row.time,
    runId: row.run_id,
    taskId: row.task_id,
    attempt: row.attempt,
    deliveryId: row.delivery_id,
    inputDigest: row.input_digest,
    bundleDigest: row.bundle_digest,
    allow: row.allow === 1,
    unavailable: row.unavailable === 1,
    reasons: parseReasons(row.reasons),
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

/** A tampered reasons column must not stop verification: it shows up as an edited entry. */
export function parseReasons(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as string[]) : [text];
  } catch {
    return [text];
  }
}
