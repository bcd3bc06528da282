/**
 * The statements of namespace budgets, spend, task history and usage, written once for both
 * stores: their schemas share the column names, and each store passes its own placeholder
 * (`?` or `$n`). An attempt's actual cost is its stored price per hour times its measured
 * duration (a running one up to `now`; never negative, should a replica's clock run behind).
 * Pure: no I/O.
 */
import type { DurationQuery, NamespaceBudget, SpendQuery, UsageQuery, UsageRow } from './store.ts';

type Value = string | number | null;
export interface Statement {
  text: string;
  args: Value[];
}
/** The store's placeholder for the n-th argument (1-based). */
export type Placeholder = (n: number) => string;

function builder(ph: Placeholder) {
  const args: Value[] = [];
  const arg = (v: Value): string => {
    args.push(v);
    return ph(args.length);
  };
  return { args, arg };
}

/** Measured ms of attempt `a`, up to the placeholder `now` while it runs. */
function durationSql(now: string): string {
  const end = `COALESCE(a.finished_at, ${now})`;
  return `(CASE WHEN ${end} > a.started_at THEN ${end} - a.started_at ELSE 0 END)`;
}

export const BUDGET_COLUMNS =
  'namespace, limit_amount, currency, period, soft, max_runs, max_tasks, updated_at, updated_by';

export function budgetValues(b: NamespaceBudget): Value[] {
  return [
    b.namespace,
    b.limit,
    b.currency,
    b.period,
    b.soft,
    b.maxRuns,
    b.maxTasks,
    b.updatedAt,
    b.updatedBy,
  ];
}

/** The upsert of a namespace's budget (the same text on both stores but for placeholders). */
export function putBudgetSql(ph: Placeholder, b: NamespaceBudget): Statement {
  const values = budgetValues(b);
  const list = values.map((_, i) => ph(i + 1)).join(', ');
  const sets = BUDGET_COLUMNS.split(', ')
    .slice(1)
    .map((c) => `${c} = excluded.${c}`)
    .join(', ');
  return {
    text: `INSERT INTO namespace_budgets (${BUDGET_COLUMNS}) VALUES (${list}) ON CONFLICT (namespace) DO UPDATE SET ${sets}`,
    args: values,
  };
}

export function toBudget(r: Record<string, unknown>): NamespaceBudget {
  const opt = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return {
    namespace: String(r.namespace),
    limit: opt(r.limit_amount),
    currency: String(r.currency),
    period: String(r.period) as NamespaceBudget['period'],
    soft: opt(r.soft),
    maxRuns: opt(r.max_runs),
    maxTasks: opt(r.max_tasks),
    updatedAt: Number(r.updated_at),
    updatedBy: String(r.updated_by),
  };
}

/** What the namespace's attempts started since `since` cost, up to `now`. */
export function spendSql(ph: Placeholder, q: SpendQuery): Statement {
  const { args, arg } = builder(ph);
  const now = arg(q.now);
  const text = `SELECT COALESCE(SUM(a.price_per_hour * ${durationSql(now)}), 0) / 3600000.0 AS spent
    FROM attempts a JOIN runs r ON r.id = a.run_id
   WHERE r.namespace = ${arg(q.namespace)} AND a.started_at >= ${arg(q.since)} AND a.price_per_hour IS NOT NULL`;
  return { text, args };
}

/**
 * The task's newest finished attempts' durations (workflow + task): those that ran to an end of
 * their own (succeeded, failed, timed out), not cache hits, cancellations or interruptions.
 */
export function durationsSql(ph: Placeholder, q: DurationQuery): Statement {
  const { args, arg } = builder(ph);
  const text = `SELECT a.finished_at - a.started_at AS ms FROM attempts a JOIN runs r ON r.id = a.run_id
   WHERE r.workflow = ${arg(q.workflow)} AND a.task_id = ${arg(q.taskId)} AND a.status = 'finished'
     AND a.outcome IN ('succeeded', 'failed', 'timed_out') AND a.finished_at >= a.started_at
   ORDER BY a.finished_at DESC LIMIT ${arg(q.limit ?? 100)}`;
  return { text, args };
}

/**
 * Price-aware placement's savings (ADR-051), as engine/placement/attempt-placement.ts signals
 * them for the metric: a placed attempt's baseline (on-demand when its task became ready) minus
 * its price, times its measured duration; nothing for an attempt not placed (no baseline) nor one
 * whose spot capacity was lost (reason `spot_lost`: its re-attempt on on-demand is what ran).
 */
function savingsSql(d: string): string {
  return `COALESCE(SUM(CASE WHEN a.on_demand_per_hour IS NULL OR a.reason = 'spot_lost' THEN 0
       ELSE (a.on_demand_per_hour - COALESCE(a.price_per_hour, 0)) * ${d} END), 0) / 3600000.0`;
}

/** The usage report: attempts started in [since, until), grouped. */
export function usageSql(ph: Placeholder, q: UsageQuery): Statement {
  const { args, arg } = builder(ph);
  const now = arg(q.now);
  const keys = [
    'r.namespace',
    ...(q.groupBy === 'namespace' ? [] : ['r.workflow']),
    ...(q.groupBy === 'task' ? ['a.task_id'] : []),
  ];
  const where = [`a.started_at >= ${arg(q.since)}`, `a.started_at < ${arg(q.until)}`];
  if (q.namespaces) where.push(`r.namespace IN (${q.namespaces.map((n) => arg(n)).join(', ') || "''"})`);
  const d = durationSql(now);
  const text = `SELECT ${keys.join(', ')}, COUNT(DISTINCT a.run_id) AS runs, COUNT(*) AS attempts,
       SUM(${d}) / 3600000.0 AS task_hours, COALESCE(SUM(a.estimated_cost), 0) AS estimated_cost,
       COALESCE(SUM(COALESCE(a.price_per_hour, 0) * ${d}), 0) / 3600000.0 AS actual_cost,
       ${savingsSql(d)} AS savings
    FROM attempts a JOIN runs r ON r.id = a.run_id
   WHERE ${where.join(' AND ')} GROUP BY ${keys.join(', ')} ORDER BY ${keys.join(', ')}`;
  return { text, args };
}

export function toUsageRow(r: Record<string, unknown>): UsageRow {
  return {
    namespace: String(r.namespace),
    workflow: r.workflow === undefined ? null : String(r.workflow),
    taskId: r.task_id === undefined ? null : String(r.task_id),
    runs: Number(r.runs),
    attempts: Number(r.attempts),
    taskHours: Number(r.task_hours),
    estimatedCost: Number(r.estimated_cost),
    actualCost: Number(r.actual_cost),
    savings: Number(r.savings),
  };
}

/** The active runs of run `r`'s namespace: queued or running with a live executor lease. */
function activeRunsSql(now: string): string {
  return `(SELECT COUNT(*) FROM runs o JOIN leases ol ON ol.name = 'run:' || o.id
     WHERE o.namespace = r.namespace AND o.status IN ('queued', 'running') AND ol.expires_at >= ${now})`;
}

/**
 * A condition on a candidate run `r` of a claim (claimRun): its namespace is under its runs
 * quota, so over the quota a run is not claimed and waits queued; with the claim's ORDER BY, the
 * namespace's runs start in their order (priority, then age) as slots free. In the claim itself,
 * never in a worker's memory, so replicas share the count. PostgreSQL's claim runs a frozen copy
 * of this and of quotaWaitLogSql in its function (postgres/migrations.ts 11): a change to either
 * is a new migration there too.
 */
export function underRunQuotaSql(now: string): string {
  return `NOT EXISTS (SELECT 1 FROM namespace_budgets b WHERE b.namespace = r.namespace
     AND b.max_runs IS NOT NULL AND b.max_runs <= ${activeRunsSql(now)})`;
}

/** The one line a waiting run gets, so the wait shows in its log (GET /v1/runs/{id}/logs). */
export const QUOTA_WAIT_PREFIX = 'waiting: namespace ';

/**
 * Says why each queued run that no executor holds waits on its namespace's runs quota, once per
 * run: a run-level system line in its log (the claim's transaction writes it, so any replica may).
 * Driven from the namespaces with a runs quota (`CROSS JOIN`: SQLite keeps that order), usually
 * none: from the queued runs, every claim read the whole queue (6 ms a claim with 3,000 queued
 * on SQLite, so a backlog made each claim slower and the backlog longer).
 */
export function quotaWaitLogSql(now: string): string {
  return `INSERT INTO logs (run_id, task_id, attempt, stream, time, text)
    SELECT r.id, NULL, NULL, 'system', ${now},
           '${QUOTA_WAIT_PREFIX}' || r.namespace || ' is at its quota of ' || CAST(b.max_runs AS TEXT)
             || ' runs at once; this run starts when one of them ends, in its turn'
      FROM namespace_budgets b CROSS JOIN runs r
     WHERE b.max_runs IS NOT NULL AND r.namespace = b.namespace AND r.status = 'queued'
       AND b.max_runs <= ${activeRunsSql(now)}
       AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = 'run:' || r.id AND l.expires_at >= ${now})
       AND NOT EXISTS (SELECT 1 FROM logs g WHERE g.run_id = r.id AND g.task_id IS NULL
                        AND g.text LIKE '${QUOTA_WAIT_PREFIX}%')`;
}

/** A tasks quota as the attempt start sees it: the limit, the attempts running, those ahead. */
export interface TaskQuotaState {
  namespace: string;
  limit: number;
  /** The namespace's attempts running under a live attempt lease. */
  running: number;
  /** The namespace's tasks waiting on the quota ahead of this one (under a live run lease). */
  ahead: number;
}

/**
 * The tasks quota of run `runId`'s namespace as task `taskId`'s attempt start sees it at `now`;
 * no row when the namespace has none. An attempt counts while it runs under a live lease (one
 * whose executor died stops counting when its lease expires). The waiting line is the tasks
 * stored `ready` with reason `quota_tasks` whose run has a live executor, in the order they
 * first waited (the time of that transition, then run, then plan position): a task that never
 * waited is behind all of them, one that waits is behind those that waited before it. So the
 * line is FIFO across replicas, kept in the rows every replica reads, in no process's memory.
 */
export function taskQuotaSql(ph: Placeholder, runId: string, taskId: string, now: number): Statement {
  const { args, arg } = builder(ph);
  const at = (): string => arg(now);
  const text = `SELECT r.namespace AS namespace, b.max_tasks AS max_tasks,
       (SELECT COUNT(*) FROM attempts a JOIN runs o ON o.id = a.run_id JOIN leases l ON l.name = 'attempt:' || a.id
         WHERE o.namespace = r.namespace AND a.status = 'running' AND l.expires_at >= ${at()}) AS running,
       (SELECT COUNT(*) FROM tasks w JOIN runs o ON o.id = w.run_id JOIN leases l ON l.name = 'run:' || o.id
         WHERE o.namespace = r.namespace AND w.state = 'ready' AND w.reason = 'quota_tasks' AND l.expires_at >= ${at()}
           AND NOT (w.run_id = t.run_id AND w.task_id = t.task_id)
           AND (t.state <> 'ready' OR t.reason <> 'quota_tasks' OR w.updated_at < t.updated_at
                OR (w.updated_at = t.updated_at AND (o.seq < r.seq OR (o.seq = r.seq AND w.position < t.position))))) AS ahead
    FROM runs r JOIN tasks t ON t.run_id = r.id JOIN namespace_budgets b ON b.namespace = r.namespace
   WHERE r.id = ${arg(runId)} AND t.task_id = ${arg(taskId)} AND b.max_tasks IS NOT NULL`;
  return { text, args };
}

export function toTaskQuota(r: Record<string, unknown> | undefined): TaskQuotaState | undefined {
  if (!r) return undefined;
  return {
    namespace: String(r.namespace),
    limit: Number(r.max_tasks),
    running: Number(r.running),
    ahead: Number(r.ahead),
  };
}

/** True when the quota leaves no slot for this task now. */
export function overTaskQuota(q: TaskQuotaState | undefined): boolean {
  return q !== undefined && q.running + q.ahead >= q.limit;
}
