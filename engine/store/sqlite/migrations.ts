/**
 * Versioned schema migrations. Each entry runs once, in order, inside a transaction, and is
 * recorded in `schema_migrations`; a database with a newer version than we know is refused.
 */
export const migrations: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL UNIQUE,
  workflow TEXT NOT NULL,
  namespace TEXT NOT NULL,
  plan_digest TEXT NOT NULL,
  plan TEXT NOT NULL,
  params TEXT NOT NULL,
  trigger TEXT NOT NULL,
  actor TEXT NOT NULL,
  priority INTEGER NOT NULL,
  status TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  approval_digest TEXT,
  cancel_requested_by TEXT
) STRICT;
CREATE INDEX runs_created ON runs (created_at);
CREATE INDEX runs_status ON runs (status);
CREATE TABLE tasks (
  run_id TEXT NOT NULL REFERENCES runs (id),
  task_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  retry_base INTEGER NOT NULL DEFAULT 0,
  first_started_at INTEGER,
  not_before INTEGER,
  cache_key TEXT,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, task_id)
) STRICT;
CREATE TABLE transitions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs (id),
  task_id TEXT,
  from_state TEXT,
  to_state TEXT NOT NULL,
  reason TEXT NOT NULL,
  by TEXT NOT NULL,
  time INTEGER NOT NULL,
  detail TEXT
) STRICT;
CREATE INDEX transitions_run ON transitions (run_id, task_id, id);
CREATE TABLE attempts (
  id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'finished')),
  outcome TEXT,
  exit_code INTEGER,
  signal TEXT,
  retryable INTEGER NOT NULL DEFAULT 0,
  reason TEXT,
  message TEXT,
  inputs TEXT NOT NULL,
  work_dir TEXT NOT NULL,
  artifacts_dir TEXT NOT NULL,
  cache_key TEXT,
  cache_hit INTEGER NOT NULL DEFAULT 0,
  policy_decisions TEXT NOT NULL DEFAULT '[]',
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  fencing_token INTEGER NOT NULL,
  UNIQUE (run_id, task_id, attempt),
  FOREIGN KEY (run_id, task_id) REFERENCES tasks (run_id, task_id)
) STRICT;
-- An attempt gets its result once; afterwards it is history and never changes.
CREATE TRIGGER attempts_immutable BEFORE UPDATE ON attempts
  WHEN OLD.status = 'finished'
  BEGIN SELECT RAISE(ABORT, 'attempt is finished and immutable'); END;
CREATE TRIGGER attempts_never_deleted BEFORE DELETE ON attempts
  BEGIN SELECT RAISE(ABORT, 'attempts are never deleted'); END;
CREATE TABLE outputs (
  attempt_id TEXT NOT NULL REFERENCES attempts (id),
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (attempt_id, name)
) STRICT;
CREATE TABLE logs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES runs (id),
  task_id TEXT,
  attempt INTEGER,
  stream TEXT NOT NULL,
  time INTEGER NOT NULL,
  text TEXT NOT NULL
) STRICT;
CREATE INDEX logs_run ON logs (run_id, task_id, id);
CREATE TABLE cache_entries (
  key TEXT PRIMARY KEY,
  run_id TEXT NOT NULL,
  task_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  outputs TEXT NOT NULL,
  artifacts_dir TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER
) STRICT;
CREATE TABLE receipts (
  run_id TEXT NOT NULL REFERENCES runs (id),
  task_id TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  digest TEXT NOT NULL,
  bundle TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, task_id, attempt)
) STRICT;
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  token INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) STRICT;
`,
  },
  {
    // The run's source (repository and exact commit, as JSON): what its tasks' workspaces hold.
    version: 2,
    sql: `ALTER TABLE runs ADD COLUMN source TEXT;`,
  },
  {
    version: 3,
    // Runs stored before trust was recorded were all run with the network, as trusted runs are.
    sql: `ALTER TABLE runs ADD COLUMN trust TEXT NOT NULL DEFAULT 'trusted' CHECK (trust IN ('trusted', 'untrusted'));`,
  },
  {
    version: 4,
    // The attempt's last checkpoint (a task's `state` message, redacted JSON): its retry starts there.
    sql: `ALTER TABLE attempts ADD COLUMN state TEXT;`,
  },
  {
    version: 5,
    // Where the runner placed the attempt (JSON: a Kubernetes cluster and namespace), recorded
    // before it starts: a resuming engine re-attaches there, and the receipt names it.
    sql: `ALTER TABLE attempts ADD COLUMN placement TEXT;`,
  },
  {
    version: 6,
    // The W3C traceparent the run's trace continues (engine/store/store.ts RunRecord.traceParent).
    sql: `ALTER TABLE runs ADD COLUMN trace_parent TEXT;`,
  },
  {
    version: 7,
    // Costs and budgets (docs/budgets.md): each attempt's price per hour as it started (its actual
    // cost is that times its measured duration) and the guard's estimate; a namespace's budget
    // and quotas, one row each, so every replica checks the same numbers.
    sql: `
ALTER TABLE attempts ADD COLUMN price_per_hour REAL;
ALTER TABLE attempts ADD COLUMN estimated_cost REAL;
CREATE INDEX attempts_started ON attempts (started_at);
CREATE INDEX runs_workflow ON runs (workflow);
CREATE TABLE namespace_budgets (
  namespace TEXT PRIMARY KEY,
  limit_amount REAL CHECK (limit_amount IS NULL OR limit_amount >= 0),
  currency TEXT NOT NULL,
  period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month')),
  soft REAL CHECK (soft IS NULL OR (soft > 0 AND soft < 1)),
  max_runs INTEGER CHECK (max_runs IS NULL OR max_runs >= 1),
  max_tasks INTEGER CHECK (max_tasks IS NULL OR max_tasks >= 1),
  updated_at INTEGER NOT NULL,
  updated_by TEXT NOT NULL
) STRICT;
`,
  },
  {
    version: 8,
    // Approvals of `tasks/approval@1` tasks (engine/approval-task/): one row per reviewer, kept for
    // ever; the triggers make SQLite itself refuse rewriting or deleting one.
    sql: `
CREATE TABLE task_approvals (
  run_id TEXT NOT NULL REFERENCES runs (id),
  task_id TEXT NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('approval', 'escalation')),
  approver TEXT NOT NULL,
  approver_key TEXT NOT NULL,
  digest TEXT NOT NULL,
  bundle TEXT,
  via TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (run_id, task_id, kind, approver_key)
) STRICT;
CREATE TRIGGER task_approvals_immutable BEFORE UPDATE ON task_approvals
  BEGIN SELECT RAISE(ABORT, 'task approvals are immutable'); END;
CREATE TRIGGER task_approvals_never_deleted BEFORE DELETE ON task_approvals
  BEGIN SELECT RAISE(ABORT, 'task approvals are never deleted'); END;
`,
  },
  {
    version: 9,
    // The label filter (GET /v1/runs?label=) through an index instead of reading every run's plan
    // JSON: one row per run and label of its workflow, written with the run (createRun), and
    // backfilled here from the runs already stored.
    sql: `
CREATE TABLE run_labels (
  run_id TEXT NOT NULL REFERENCES runs (id),
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (key, value, run_id)
) STRICT, WITHOUT ROWID;
INSERT INTO run_labels (run_id, key, value)
  SELECT runs.id, l.key, l.value FROM runs, json_each(runs.plan, '$.workflow.labels') AS l
  WHERE json_type(runs.plan, '$.workflow.labels') = 'object' AND l.type = 'text';
`,
  },
  {
    version: 10,
    // Price-aware placement's baseline (ADR-051): on-demand's price per hour when a placed task
    // became ready, so the usage report sums its savings (docs/budgets.md); null on attempts that
    // placement did not place, and on those stored before.
    sql: `ALTER TABLE attempts ADD COLUMN on_demand_per_hour REAL;`,
  },
  {
    version: 11,
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
    version: 12,
    // The run claim's order (sqlite-leases.ts claimRun), as PostgreSQL's runs_claimable: the
    // claim walks it from the most urgent run and stops at the first it can take, instead of
    // reading and sorting every queued and running run (6 ms a claim with 3,000 queued).
    sql: `CREATE INDEX IF NOT EXISTS runs_claimable ON runs (priority DESC, seq) WHERE status IN ('queued', 'running');`,
  },
  {
    version: 13,
    // `GET /runs?sha=` (sqlite-records.ts listRuns: the runs of one commit, what a CI status page
    // or a re-run asks) read every run's source JSON; an index on the very expression the filter
    // uses reads the runs of that commit only.
    sql: `CREATE INDEX IF NOT EXISTS runs_commit ON runs (json_extract(source, '$.commit'));`,
  },
];
