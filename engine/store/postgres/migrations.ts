/**
 * Versioned, forward-only schema migrations for PostgreSQL. Each entry runs once, in order, in one
 * transaction under an advisory lock (replicas starting together migrate once), and is recorded in
 * `schema_migrations`; a database with a newer version than this build knows is refused.
 *
 * Column names are the SQLite store's (engine/store/sqlite/migrations.ts), so one row mapping
 * (sqlite/rows.ts) serves both. JSON columns are `json`, not `jsonb`: `json` keeps the exact text
 * written (key order included, as SQLite does), and is read back as text (open-pool.ts).
 * Version 1 is the SQLite schema at its version 3. A migration added to the SQLite store is
 * carried here as the next version, and the contract suite (test/store-contract/) runs on both.
 * What PostgreSQL adds: fencing tokens come from one sequence (`lease_tokens`), so a token is never
 * reused across leases or after a lease row is removed; tasks carry their claim's expiry so
 * `FOR UPDATE SKIP LOCKED` claims re-check it on the locked row (postgres-leases.ts).
 */
export const migrations: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE SEQUENCE lease_tokens AS bigint;
CREATE TABLE runs (
  id text PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  workflow text NOT NULL,
  namespace text NOT NULL,
  plan_digest text NOT NULL,
  plan json NOT NULL,
  params json NOT NULL,
  trigger text NOT NULL,
  actor text NOT NULL,
  priority integer NOT NULL,
  status text NOT NULL,
  reason text NOT NULL,
  created_at bigint NOT NULL,
  started_at bigint,
  finished_at bigint,
  approval_digest text,
  cancel_requested_by text,
  source json,
  trust text NOT NULL DEFAULT 'untrusted' CHECK (trust IN ('trusted', 'untrusted'))
);
CREATE INDEX runs_created ON runs (created_at);
CREATE INDEX runs_status ON runs (status);
CREATE TABLE tasks (
  run_id text NOT NULL REFERENCES runs (id),
  task_id text NOT NULL,
  position integer NOT NULL,
  state text NOT NULL,
  reason text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  retry_base integer NOT NULL DEFAULT 0,
  first_started_at bigint,
  not_before bigint,
  cache_key text,
  updated_at bigint NOT NULL,
  claim_expires_at bigint,
  PRIMARY KEY (run_id, task_id)
);
CREATE INDEX tasks_ready ON tasks (run_id, position) WHERE state = 'ready';
CREATE TABLE transitions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL REFERENCES runs (id),
  task_id text,
  from_state text,
  to_state text NOT NULL,
  reason text NOT NULL,
  by text NOT NULL,
  time bigint NOT NULL,
  detail text
);
CREATE INDEX transitions_run ON transitions (run_id, task_id, id);
CREATE TABLE attempts (
  id text PRIMARY KEY,
  run_id text NOT NULL,
  task_id text NOT NULL,
  attempt integer NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'finished')),
  outcome text,
  exit_code integer,
  signal text,
  retryable boolean NOT NULL DEFAULT false,
  reason text,
  message text,
  inputs json NOT NULL,
  work_dir text NOT NULL,
  artifacts_dir text NOT NULL,
  cache_key text,
  cache_hit boolean NOT NULL DEFAULT false,
  policy_decisions json NOT NULL DEFAULT '[]',
  started_at bigint NOT NULL,
  finished_at bigint,
  fencing_token bigint NOT NULL,
  UNIQUE (run_id, task_id, attempt),
  FOREIGN KEY (run_id, task_id) REFERENCES tasks (run_id, task_id)
);
-- An attempt gets its result once; afterwards it is history and never changes, even by direct SQL.
CREATE FUNCTION attempts_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR TG_OP = 'TRUNCATE' THEN
    RAISE EXCEPTION 'attempts are never deleted' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  IF OLD.status = 'finished' THEN
    RAISE EXCEPTION 'attempt is finished and immutable' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER attempts_immutable BEFORE UPDATE OR DELETE ON attempts
  FOR EACH ROW EXECUTE FUNCTION attempts_immutable();
CREATE TRIGGER attempts_never_truncated BEFORE TRUNCATE ON attempts
  FOR EACH STATEMENT EXECUTE FUNCTION attempts_immutable();
CREATE TABLE outputs (
  attempt_id text NOT NULL REFERENCES attempts (id),
  name text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (attempt_id, name)
);
CREATE TABLE logs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id text NOT NULL REFERENCES runs (id),
  task_id text,
  attempt integer,
  stream text NOT NULL,
  time bigint NOT NULL,
  text text NOT NULL
);
CREATE INDEX logs_run ON logs (run_id, task_id, id);
CREATE TABLE cache_entries (
  key text PRIMARY KEY,
  run_id text NOT NULL,
  task_id text NOT NULL,
  attempt integer NOT NULL,
  outputs json NOT NULL,
  artifacts_dir text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint
);
CREATE TABLE receipts (
  run_id text NOT NULL REFERENCES runs (id),
  task_id text NOT NULL,
  attempt integer NOT NULL,
  digest text NOT NULL,
  bundle json NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (run_id, task_id, attempt)
);
CREATE TABLE leases (
  name text PRIMARY KEY,
  owner text NOT NULL,
  token bigint NOT NULL,
  expires_at bigint NOT NULL
);
`,
  },
  {
    // Replicas claim runs by their executor lease's row (postgres-leases.ts claimRun): every run
    // gets one at creation; runs created before this version get theirs here.
    version: 2,
    sql: `
INSERT INTO leases (name, owner, token, expires_at)
  SELECT 'run:' || id, '', nextval('lease_tokens'), 0 FROM runs
   WHERE status NOT IN ('succeeded', 'failed', 'cancelled', 'timed_out')
ON CONFLICT (name) DO NOTHING;
CREATE INDEX runs_claimable ON runs (priority DESC, seq) WHERE status IN ('queued', 'running');
`,
  },
  {
    version: 3,
    // The attempt's last checkpoint (a task's `state` message, redacted JSON): its retry starts there.
    sql: `ALTER TABLE attempts ADD COLUMN state text;`,
  },
  {
    version: 4,
    // Where the runner placed the attempt (JSON: a Kubernetes cluster and namespace), recorded
    // before it starts: a resuming engine re-attaches there, and the receipt names it.
    sql: `ALTER TABLE attempts ADD COLUMN placement text;`,
  },
  {
    version: 5,
    // The W3C traceparent the run's trace continues (engine/store/store.ts RunRecord.traceParent).
    sql: `ALTER TABLE runs ADD COLUMN trace_parent text;`,
  },
  {
    version: 6,
    // Costs and budgets (docs/budgets.md): each attempt's price per hour as it started (its actual
    // cost is that times its measured duration) and the guard's estimate; a namespace's budget
    // and quotas, one row each, so every replica checks the same numbers.
    sql: `
ALTER TABLE attempts ADD COLUMN price_per_hour double precision;
ALTER TABLE attempts ADD COLUMN estimated_cost double precision;
CREATE INDEX attempts_started ON attempts (started_at);
CREATE INDEX runs_workflow ON runs (workflow);
CREATE TABLE namespace_budgets (
  namespace text PRIMARY KEY,
  limit_amount double precision CHECK (limit_amount IS NULL OR limit_amount >= 0),
  currency text NOT NULL,
  period text NOT NULL CHECK (period IN ('day', 'week', 'month')),
  soft double precision CHECK (soft IS NULL OR (soft > 0 AND soft < 1)),
  max_runs integer CHECK (max_runs IS NULL OR max_runs >= 1),
  max_tasks integer CHECK (max_tasks IS NULL OR max_tasks >= 1),
  updated_at bigint NOT NULL,
  updated_by text NOT NULL
);
`,
  },
  {
    version: 7,
    // Approvals of `tasks/approval@1` tasks (engine/approval-task/): one row per reviewer, kept for
    // ever; the trigger makes the database itself refuse rewriting or deleting one.
    sql: `
CREATE TABLE task_approvals (
  run_id text NOT NULL REFERENCES runs (id),
  task_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('approval', 'escalation')),
  approver text NOT NULL,
  approver_key text NOT NULL,
  digest text NOT NULL,
  bundle json,
  via text NOT NULL,
  created_at bigint NOT NULL,
  seq bigserial,
  PRIMARY KEY (run_id, task_id, kind, approver_key)
);
CREATE FUNCTION task_approvals_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'task approvals are immutable' USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER task_approvals_immutable BEFORE UPDATE OR DELETE ON task_approvals
  FOR EACH ROW EXECUTE FUNCTION task_approvals_immutable();
CREATE TRIGGER task_approvals_never_truncated BEFORE TRUNCATE ON task_approvals
  FOR EACH STATEMENT EXECUTE FUNCTION task_approvals_immutable();
`,
  },
  {
    version: 8,
    // The label filter (GET /v1/runs?label=) through an index instead of reading every run's plan
    // JSON: one row per run and label of its workflow, written with the run (createRun), and
    // backfilled here from the runs already stored.
    sql: `
CREATE TABLE run_labels (
  run_id text NOT NULL REFERENCES runs (id),
  key text NOT NULL,
  value text NOT NULL,
  PRIMARY KEY (key, value, run_id)
);
INSERT INTO run_labels (run_id, key, value)
  SELECT r.id, l.key, l.value #>> '{}' FROM runs r,
    jsonb_each(CASE WHEN jsonb_typeof(r.plan::jsonb -> 'workflow' -> 'labels') = 'object'
      THEN r.plan::jsonb -> 'workflow' -> 'labels' ELSE '{}'::jsonb END) AS l
  WHERE jsonb_typeof(l.value) = 'string';
`,
  },
  {
    version: 9,
    // Price-aware placement's baseline (ADR-051): on-demand's price per hour when a placed task
    // became ready, so the usage report sums its savings (docs/budgets.md); null on attempts that
    // placement did not place, and on those stored before.
    sql: `ALTER TABLE attempts ADD COLUMN on_demand_per_hour double precision;`,
  },
  {
    version: 10,
    // Two reads of every run that were linear in a workflow's history (bench/scheduler: 15 % of
    // the server's main thread after 900 runs, growing with every run): the recovery look-back
    // (api/recovery-time.ts: the workflow's newest finished run before this one, newest first)
    // walked every run of the workflow and sorted them; the budget guard's duration history
    // (budget-sql.ts durationsSql: a task's newest 100 finished attempts) every attempt of every
    // run of the workflow. With these, each reads about the rows it returns (the durations: the
    // task id's newest attempts, of any workflow, until 100 are this one's). runs_workflow is a prefix
    // of the first, so it goes (one index fewer to write per run).
    sql: `
CREATE INDEX IF NOT EXISTS runs_workflow_created ON runs (workflow, created_at, id);
DROP INDEX IF EXISTS runs_workflow;
CREATE INDEX IF NOT EXISTS attempts_task_finished ON attempts (task_id, finished_at);
`,
  },
  {
    version: 11,
    // The run claim as a function (postgres-leases.ts claimRun), so it is planned once per
    // connection (PL/pgSQL keeps its statements' plans) where the multi-statement simple query
    // it replaces was parsed and planned on every call: 1.7 ms of the database's CPU per run
    // (pg_stat_statements, bench/scheduler/RESULTS.md). VOLATILE: in READ COMMITTED each of its
    // statements takes a fresh snapshot, as each statement of that query did, so the claim sees
    // every claim committed before the quota lock was granted and the run and its tasks are read
    // after the claim locked the lease. The text is frozen like every migration's: a change to
    // the claim is a new migration that replaces the function.
    sql: `
CREATE OR REPLACE FUNCTION maestro_claim_run(p_owner text, p_now bigint, p_expires bigint)
  RETURNS TABLE (name text, owner text, token bigint, expires_at bigint, run json, tasks json)
  LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  claimed leases%ROWTYPE;
BEGIN
  -- Claims take turns only while some namespace has a runs quota (no row: no lock).
  PERFORM pg_advisory_xact_lock(1836151905) FROM namespace_budgets WHERE max_runs IS NOT NULL LIMIT 1;
  WITH candidate AS (
     SELECT l.name FROM leases l JOIN runs r ON l.name = 'run:' || r.id
      WHERE r.status IN ('queued', 'running') AND l.expires_at < p_now
        AND NOT EXISTS (SELECT 1 FROM namespace_budgets b WHERE b.namespace = r.namespace
              AND b.max_runs IS NOT NULL AND b.max_runs <= (SELECT COUNT(*) FROM runs o JOIN leases ol ON ol.name = 'run:' || o.id
              WHERE o.namespace = r.namespace AND o.status IN ('queued', 'running') AND ol.expires_at >= p_now))
      ORDER BY r.priority DESC, r.seq LIMIT 1 FOR UPDATE OF l SKIP LOCKED)
  UPDATE leases l SET owner = p_owner, token = nextval('lease_tokens'), expires_at = p_expires
    FROM candidate WHERE l.name = candidate.name AND l.expires_at < p_now
  RETURNING l.* INTO claimed;
  INSERT INTO logs (run_id, task_id, attempt, stream, time, text)
    SELECT r.id, NULL, NULL, 'system', p_now,
           'waiting: namespace ' || r.namespace || ' is at its quota of ' || CAST(b.max_runs AS TEXT)
             || ' runs at once; this run starts when one of them ends, in its turn'
      FROM namespace_budgets b CROSS JOIN runs r
     WHERE b.max_runs IS NOT NULL AND r.namespace = b.namespace AND r.status = 'queued'
       AND b.max_runs <= (SELECT COUNT(*) FROM runs o JOIN leases ol ON ol.name = 'run:' || o.id
             WHERE o.namespace = r.namespace AND o.status IN ('queued', 'running') AND ol.expires_at >= p_now)
       AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = 'run:' || r.id AND l.expires_at >= p_now)
       AND NOT EXISTS (SELECT 1 FROM logs g WHERE g.run_id = r.id AND g.task_id IS NULL
                        AND g.text LIKE 'waiting: namespace %');
  IF claimed.name IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY SELECT claimed.name, claimed.owner, claimed.token, claimed.expires_at,
    (SELECT row_to_json(r) FROM runs r WHERE r.id = substr(claimed.name, 5)),
    (SELECT coalesce(json_agg(t ORDER BY t.position), '[]'::json) FROM tasks t WHERE t.run_id = substr(claimed.name, 5));
END $$;
`,
  },
  {
    version: 12,
    // `GET /runs?sha=` (postgres-runs.ts: the runs of one commit) read every run's source; an
    // index on the filter's own expression reads that commit's runs only.
    sql: `CREATE INDEX IF NOT EXISTS runs_commit ON runs ((source ->> 'commit'));`,
  },
];
