/**
 * The policy decision log on PostgreSQL (MAESTRO_DATABASE_URL): every replica's decisions in one
 * hash chain. As on SQLite (policy/decision-log/open-decision-log.ts) the database itself keeps
 * the guarantees, not this code: triggers refuse UPDATE, DELETE and TRUNCATE, and an INSERT whose
 * seq or prev_hash does not continue the chain, whoever issues it. Appends from several replicas
 * are serialized by a transaction-scoped advisory lock (taken before the head is read), so each
 * links to the one before it; without the lock two would read the same head and the second
 * would be refused. Migrated by the one runner under `decision_log_schema_migrations`.
 */
import {
  DecisionLogError,
  GENESIS_HASH,
  hashEntry,
  parseReasons,
  verifyChain,
  type DecisionLog,
  type DecisionLogEntry,
  type DecisionRecord,
} from '../../../policy/index.ts';
import { openPool, redactedUrl, type PostgresSchema } from './open-pool.ts';
import { brokenConnection, codeOf, retrying, transaction } from './reconnect.ts';
import { prepared } from './prepared.ts';

export const decisionLogSchema: PostgresSchema = {
  table: 'decision_log_schema_migrations',
  migrations: [
    {
      version: 1,
      sql: `
CREATE TABLE policy_decision_log (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  decision_id text NOT NULL UNIQUE,
  time text NOT NULL,
  run_id text NOT NULL,
  task_id text NOT NULL,
  attempt integer NOT NULL,
  delivery_id text,
  input_digest text NOT NULL,
  bundle_digest text NOT NULL,
  allow boolean NOT NULL,
  unavailable boolean NOT NULL,
  reasons text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL UNIQUE
);
CREATE FUNCTION policy_decision_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'policy_decision_log is append-only: % refused', TG_OP
    USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER policy_decision_log_no_change BEFORE UPDATE OR DELETE ON policy_decision_log
  FOR EACH ROW EXECUTE FUNCTION policy_decision_log_append_only();
CREATE TRIGGER policy_decision_log_no_truncate BEFORE TRUNCATE ON policy_decision_log
  FOR EACH STATEMENT EXECUTE FUNCTION policy_decision_log_append_only();
-- Each new row continues the chain: the next seq, linking to the hash of the row before it.
CREATE FUNCTION policy_decision_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head record;
BEGIN
  SELECT seq, hash INTO head FROM policy_decision_log ORDER BY seq DESC LIMIT 1;
  IF NEW.seq IS DISTINCT FROM COALESCE(head.seq, 0) + 1
     OR NEW.prev_hash IS DISTINCT FROM COALESCE(head.hash, '${GENESIS_HASH}') THEN
    RAISE EXCEPTION 'policy_decision_log insert does not continue the chain'
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER policy_decision_log_chain BEFORE INSERT ON policy_decision_log
  FOR EACH ROW EXECUTE FUNCTION policy_decision_log_chain();
`,
    },
    {
      // One run's decisions (GET /v1/runs/{id}/decisions) without reading the whole log.
      version: 2,
      sql: 'CREATE INDEX policy_decision_log_by_run ON policy_decision_log (run_id, seq);',
    },
  ],
};

/** Decisions are appended one at a time (under the lock): a small pool beside the engine store's. */
const POOL_SIZE = 2;

type Row = Record<string, unknown>;
type Head = { seq: number; hash: string };

const LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('maestro.policy_decision_log'))`;
const COLUMNS = `seq, decision_id, time, run_id, task_id, attempt, delivery_id, input_digest, bundle_digest, allow,
  unavailable, reasons, prev_hash, hash`;
const VALUES = '$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14';
/** An append under the lock, known head: one prepared statement, the lock taken by its first part. */
const APPEND = prepared(
  `WITH locked AS (${LOCK_SQL}) INSERT INTO policy_decision_log (${COLUMNS}) SELECT ${VALUES} FROM locked`,
);
/** The append inside readHeadAndAppend's transaction, which took the lock itself. */
const INSERT = prepared(`INSERT INTO policy_decision_log (${COLUMNS}) VALUES (${VALUES})`);
const LOCK = prepared(LOCK_SQL);
const HEAD = prepared('SELECT seq, hash FROM policy_decision_log ORDER BY seq DESC LIMIT 1');
const ALL = prepared('SELECT * FROM policy_decision_log ORDER BY seq');
const OF_RUN = prepared('SELECT * FROM policy_decision_log WHERE run_id = $1 ORDER BY seq');

export async function openPostgresDecisionLog(url: string): Promise<DecisionLog & { location: string }> {
  const pool = await openPool(url, { max: POOL_SIZE, schema: decisionLogSchema });
  const db = retrying(pool);
  const entries = async () => (await db.query<Row>(ALL)).rows.map(fromRow);
  /**
   * The chain's head as this process last wrote it (undefined: not known). An append links to
   * it and goes as one round trip: one statement, whose first part takes the lock (so the chain
   * trigger, which reads the head in a snapshot of its own, runs under it). When another replica
   * appended meanwhile, the trigger refuses the row and the append reads the head under the lock
   * (five round trips, as every append did before).
   */
  let head: Head | undefined;
  /** This process's appends one after the other, so each links to the one before it. */
  let queue: Promise<unknown> = Promise.resolve();
  const link = (record: DecisionRecord, at: Head | undefined): DecisionLogEntry => {
    const content = { ...record, seq: at ? at.seq + 1 : 1, prevHash: at ? at.hash : GENESIS_HASH };
    return { ...content, hash: hashEntry(content) };
  };
  const readHeadAndAppend = (record: DecisionRecord) =>
    transaction(pool, async (c) => {
      await c.query(LOCK);
      const { rows } = await c.query<Row>(HEAD);
      const entry = link(
        record,
        rows[0] ? { seq: Number(rows[0].seq), hash: String(rows[0].hash) } : undefined,
      );
      await c.query(INSERT, values(entry));
      return entry;
    });
  const appendOnce = async (record: DecisionRecord): Promise<DecisionLogEntry> => {
    const known = head;
    head = undefined; // until this append is known to have landed
    let entry: DecisionLogEntry | undefined;
    if (known) {
      const linked = link(record, known);
      try {
        await db.query(APPEND, values(linked));
        entry = linked;
      } catch (error) {
        if (!chainRefused(error)) throw error;
      }
    }
    entry ??= await readHeadAndAppend(record);
    head = { seq: entry.seq, hash: entry.hash };
    return entry;
  };
  return {
    location: redactedUrl(url),
    async append(record) {
      const appended = queue.then(() => appendOnce(record));
      queue = appended.catch(() => undefined);
      try {
        return await appended;
      } catch (error) {
        // A connection lost under the append (a restart, a failover) is the database's fault, not
        // the decision's: retryable, so the engine gives the run up and the next executor asks again.
        throw new DecisionLogError(
          `cannot record policy decision ${record.decisionId}: ${(error as Error).message}`,
          { cause: error, retryable: brokenConnection(error) },
        );
      }
    },
    entries,
    entriesOf: async (runId) => (await db.query<Row>(OF_RUN, [runId])).rows.map(fromRow),
    verify: async () => verifyChain(await entries()),
    close: () => pool.end(),
  };
}

/** The chain trigger's refusal (another replica appended since this process's last append). */
function chainRefused(error: unknown): boolean {
  return codeOf(error) === '23000' && /does not continue the chain/.test((error as Error).message);
}

/** An entry's parameters in COLUMNS' order (the digest and the reasons as the chain hashes them). */
function values(e: DecisionLogEntry): unknown[] {
  return [
    e.seq,
    e.decisionId,
    e.time,
    e.runId,
    e.taskId,
    e.attempt,
    e.deliveryId,
    e.inputDigest,
    e.bundleDigest,
    e.allow,
    e.unavailable,
    JSON.stringify(e.reasons),
    e.prevHash,
    e.hash,
  ];
}

function fromRow(row: Row): DecisionLogEntry {
  return {
    seq: Number(row.seq),
    decisionId: String(row.decision_id),
    time: String(row.time),
    runId: String(row.run_id),
    taskId: String(row.task_id),
    attempt: Number(row.attempt),
    deliveryId: row.delivery_id === null ? null : String(row.delivery_id),
    inputDigest: String(row.input_digest),
    bundleDigest: String(row.bundle_digest),
    allow: row.allow === true,
    unavailable: row.unavailable === true,
    reasons: parseReasons(String(row.reasons)),
    prevHash: String(row.prev_hash),
    hash: String(row.hash),
  };
}
