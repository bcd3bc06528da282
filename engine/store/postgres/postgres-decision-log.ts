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
} from '../../../policy/index.ts';
import { openPool, redactedUrl, type PostgresSchema } from './open-pool.ts';
import { brokenConnection, retrying, transaction } from './reconnect.ts';

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

export async function openPostgresDecisionLog(url: string): Promise<DecisionLog & { location: string }> {
  const pool = await openPool(url, { max: POOL_SIZE, schema: decisionLogSchema });
  const db = retrying(pool);
  const entries = async () =>
    (await db.query<Row>('SELECT * FROM policy_decision_log ORDER BY seq')).rows.map(fromRow);
  return {
    location: redactedUrl(url),
    async append(record) {
      try {
        return await transaction(pool, async (c) => {
          await c.query(`SELECT pg_advisory_xact_lock(hashtext('maestro.policy_decision_log'))`);
          const { rows } = await c.query<Row>(
            'SELECT seq, hash FROM policy_decision_log ORDER BY seq DESC LIMIT 1',
          );
          const head = rows[0];
          const content = {
            ...record,
            seq: head ? Number(head.seq) + 1 : 1,
            prevHash: head ? String(head.hash) : GENESIS_HASH,
          };
          const entry: DecisionLogEntry = { ...content, hash: hashEntry(content) };
          await c.query(
            `INSERT INTO policy_decision_log (seq, decision_id, time, run_id, task_id, attempt, delivery_id,
               input_digest, bundle_digest, allow, unavailable, reasons, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
            [
              entry.seq,
              entry.decisionId,
              entry.time,
              entry.runId,
              entry.taskId,
              entry.attempt,
              entry.deliveryId,
              entry.inputDigest,
              entry.bundleDigest,
              entry.allow,
              entry.unavailable,
              JSON.stringify(entry.reasons),
              entry.prevHash,
              entry.hash,
            ],
          );
          return entry;
        });
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
    entriesOf: async (runId) =>
      (
        await db.query<Row>('SELECT * FROM policy_decision_log WHERE run_id = $1 ORDER BY seq', [runId])
      ).rows.map(fromRow),
    verify: async () => verifyChain(await entries()),
    close: () => pool.end(),
  };
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
