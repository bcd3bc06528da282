/**
 * The writes PostgresStore composes inside one transaction (or sends alone, fenced in the
 * statement): a task's compare-and-set transition, an attempt's start, and its one-time result (the trigger of migrations.ts refuses any later change).
 */
import type { PoolClient } from 'pg';
import type { Db } from './reconnect.ts';
import { NotFoundError } from '../../../core/index.ts';
import { LeaseLostError, StaleStateError, TaskQuotaError } from '../../errors.ts';
import { overTaskQuota, taskQuotaSql, toTaskQuota } from '../budget-sql.ts';
import type { Fence } from '../async-store.ts';
import type { AttemptFinish, AttemptStart, TaskTransitionWrite } from '../store.ts';
import { TASK_PATCH_COLUMNS, attemptStartValues } from '../row-values.ts';
import { checkFenceToken, fencedStatement } from './postgres-leases.ts';
import { prepared } from './prepared.ts';

type Row = Record<string, unknown>;

/** The SQL type of each patchable task column (TASK_PATCH_COLUMNS; migrations.ts). */
const PATCH_TYPES: Record<string, string> = {
  attempts: 'integer',
  retry_base: 'integer',
  first_started_at: 'bigint',
  not_before: 'bigint',
  cache_key: 'text',
};

/**
 * A task's compare-and-set transition and its transition row in one statement (one round trip,
 * atomic without a transaction of its own); with `fence`, conditioned on the run lease's token
 * (postgres-leases.ts `fenceClause`). StaleStateError, NotFoundError or LeaseLostError otherwise.
 * The text is one of two (fenced or not), prepared: the patch goes as a parameter (taskPatchSets).
 */
export async function transitionTask(
  c: Db,
  runId: string,
  taskId: string,
  t: TaskTransitionWrite,
  fence?: Fence,
): Promise<void> {
  const args: unknown[] = [
    t.to,
    t.reason,
    t.time,
    runId,
    taskId,
    t.from,
    t.by,
    t.detail ?? null,
    patchJson(t),
  ];
  const { rows } = await c.query<Row>(TRANSITION_TASK(fence, args), args);
  checkFenceToken(rows[0], fence);
  if (Number(rows[0]?.n) !== 1) await throwNotMoved(c, runId, taskId, t);
}

/** Why a task's compare-and-set transition moved nothing: NotFoundError or StaleStateError. */
async function throwNotMoved(c: Db, runId: string, taskId: string, t: TaskTransitionWrite): Promise<never> {
  const exists = await c.query(TASK_EXISTS, [runId, taskId]);
  if (exists.rowCount === 0) throw new NotFoundError('task', `${runId}/${taskId}`);
  throw new StaleStateError(`task ${runId}/${taskId} is no longer ${t.from}`);
}

const TRANSITION_TASK = fencedStatement(
  9,
  (f) => `WITH ${f.with}upd AS (
       UPDATE tasks t SET state = $1, reason = $2, updated_at = $3, ${taskPatchSets('$9::jsonb', '$6')}
        WHERE run_id = $4 AND task_id = $5 AND state = $6 AND ${f.ok} RETURNING 1),
     ins AS (
       INSERT INTO transitions (run_id, task_id, from_state, to_state, reason, by, time, detail)
       SELECT $4, $5, $6, $1, $2, $7::text, $3, $8::text FROM upd)
     SELECT (SELECT count(*) FROM upd)::int AS n, ${f.token}`,
);

const TASK_EXISTS = prepared('SELECT 1 FROM tasks WHERE run_id = $1 AND task_id = $2');

/**
 * The patch of a transition as one parameter: a JSON object of the columns it sets, by column
 * name (a `null` value sets NULL; an absent key leaves the column), so one statement text serves
 * every patch (taskPatchSets) and can be prepared.
 */
export function patchJson(t: TaskTransitionWrite): string {
  const patch = t.patch ?? {};
  const set: Record<string, unknown> = {};
  for (const [key, column] of TASK_PATCH_COLUMNS) if (patch[key] !== undefined) set[column] = patch[key];
  return JSON.stringify(set);
}

/**
 * The SET list of a task's patch columns read from a `patchJson` expression (`patch`) of an
 * UPDATE of `tasks t`, then the end of a claim: leaving `ready` (`from`, the state left) ends any
 * claim on the task, so the next time it is ready it is claimable again. Constant for given
 * expressions.
 */
export function taskPatchSets(patch: string, from: string): string {
  const sets = TASK_PATCH_COLUMNS.map(
    ([, column]) =>
      `${column} = CASE WHEN ${patch} ? '${column}' THEN (${patch} ->> '${column}')::${PATCH_TYPES[column]} ELSE t.${column} END`,
  );
  sets.push(`claim_expires_at = CASE WHEN ${from} = 'ready' THEN NULL ELSE t.claim_expires_at END`);
  return sets.join(', ');
}

/**
 * The result columns an attempt's finish writes (closeAttempt, postgres-finish.ts), in the order
 * of `resultValues`: the one list of them on PostgreSQL.
 */
const RESULT_COLUMNS = [
  'outcome',
  'exit_code',
  'signal',
  'retryable',
  'reason',
  'message',
  'finished_at',
  'cache_hit',
  'policy_decisions',
  'state',
] as const;

/** A finish's values in RESULT_COLUMNS' order. */
export function resultValues(finish: AttemptFinish): unknown[] {
  return [
    finish.outcome,
    finish.exitCode,
    finish.signal,
    finish.retryable,
    finish.reason,
    finish.message,
    finish.finishedAt,
    finish.cacheHit,
    JSON.stringify(finish.policyDecisionIds),
    finish.state ?? null,
  ];
}

/** `status = 'finished'` and the SET list of RESULT_COLUMNS from parameters `$first` on. */
export function resultSets(first: number): string {
  return [`status = 'finished'`, ...RESULT_COLUMNS.map((column, i) => `${column} = $${first + i}`)].join(
    ', ',
  );
}

/**
 * The namespace's tasks quota at an attempt's start, counted after its transaction took the
 * namespace's lock (postgres-leases.ts lockTaskQuota): TaskQuotaError when there is no slot.
 */
export async function checkTaskQuota(c: PoolClient, start: AttemptStart): Promise<void> {
  const { text, args } = taskQuotaSql(dollar, start.runId, start.taskId, start.startedAt);
  const quota = toTaskQuota((await c.query<Row>(text, args)).rows[0]);
  if (overTaskQuota(quota)) throw new TaskQuotaError(quota!.namespace, quota!.limit);
}

const dollar = (n: number): string => `$${n}`;

/** insertAttempt wrote nothing: the run's namespace has a tasks quota, so the start must count first. */
export const QUOTA_APPLIES = 'quota applies';

/**
 * The attempt row and its lease (a fresh token from `lease_tokens`) in one statement; the token.
 * LeaseLostError when another owner holds a live lease of that name (nothing inserted). With
 * `transition` (the task's move to `running`) the task's compare-and-set transition rides in the
 * same statement, one round trip fewer: the lease and the attempt are written only when it moved
 * the task, and otherwise it throws as transitionTask does (nothing written). When the run's
 * namespace has a tasks quota the statement writes nothing and QUOTA_APPLIES comes back: the
 * caller takes the quota's lock, counts, and then writes with insertCountedAttempt.
 */
export async function insertAttempt(
  c: Db,
  start: AttemptStart,
  transition?: TaskTransitionWrite,
): Promise<number | typeof QUOTA_APPLIES> {
  const args = attemptArgs(start);
  if (transition) {
    const t = transition;
    args.push(t.to, t.reason, t.time, t.from, t.by, t.detail ?? null, patchJson(t));
  }
  const { rows } = await c.query<Row>(transition ? START_MOVED : START, args);
  if (rows[0]?.quota === true) return QUOTA_APPLIES;
  if (transition && Number(rows[0]?.n) !== 1) await throwNotMoved(c, start.runId, start.taskId, transition);
  return leaseToken(rows[0], start);
}

/** The attempt and its lease once its tasks quota was counted (insertAttempt's QUOTA_APPLIES). */
export async function insertCountedAttempt(c: Db, start: AttemptStart): Promise<number> {
  return leaseToken((await c.query<Row>(START_COUNTED, attemptArgs(start))).rows[0], start);
}

function leaseToken(row: Row | undefined, start: AttemptStart): number {
  if (row?.fencing_token === null || row?.fencing_token === undefined)
    throw new LeaseLostError(`attempt:${start.id}`);
  return Number(row.fencing_token);
}

/** Parameters $1 to $17 of attemptSql. */
function attemptArgs(start: AttemptStart): unknown[] {
  const values = attemptStartValues(start, 0);
  values.splice(9, 1); // the token comes from the lease the statement takes
  const [pricePerHour, estimatedCost, onDemandPerHour] = values.splice(10, 3);
  return [
    ...values,
    `attempt:${start.id}`,
    start.owner,
    start.startedAt + start.leaseMs,
    start.startedAt,
    pricePerHour,
    estimatedCost,
    onDemandPerHour,
  ];
}

/** The attempt's lease and row, from parameters $1 to $17; written once per row of `from` (none: once). */
function attemptSql(from: string): string {
  return `lease AS (
       INSERT INTO leases (name, owner, token, expires_at) SELECT $11, $12, nextval('lease_tokens'), $13${from}
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = excluded.token, expires_at = excluded.expires_at
         WHERE leases.owner = excluded.owner OR leases.expires_at < $14
       RETURNING token),
     ins AS (
       INSERT INTO attempts (id, run_id, task_id, attempt, status, inputs, work_dir, artifacts_dir, cache_key,
         started_at, fencing_token, placement, price_per_hour, estimated_cost, on_demand_per_hour)
       SELECT $1, $2, $3, $4::integer, 'running', $5::json, $6::text, $7::text, $8::text, $9::bigint, lease.token, $10::json,
         $15::double precision, $16::double precision, $17::double precision
         FROM lease RETURNING fencing_token)`;
}

/** Whether run $2's namespace has a tasks quota (then the guarded statements write nothing). */
const QUOTA_SQL = `quota AS (
       SELECT EXISTS (SELECT 1 FROM runs r JOIN namespace_budgets b ON b.namespace = r.namespace
                       WHERE r.id = $2 AND b.max_tasks IS NOT NULL) AS applies)`;

const START = prepared(
  `WITH ${QUOTA_SQL}, ${attemptSql(' FROM quota WHERE NOT quota.applies')}
   SELECT (SELECT applies FROM quota) AS quota, (SELECT fencing_token FROM ins) AS fencing_token`,
);
const START_COUNTED = prepared(
  `WITH ${attemptSql('')} SELECT (SELECT fencing_token FROM ins) AS fencing_token`,
);
const START_MOVED = prepared(
  `WITH ${QUOTA_SQL},
     upd AS (
       UPDATE tasks t SET state = $18, reason = $19, updated_at = $20, ${taskPatchSets('$24::jsonb', '$21')}
        WHERE run_id = $2 AND task_id = $3 AND state = $21 AND NOT (SELECT applies FROM quota) RETURNING 1),
     moved AS (
       INSERT INTO transitions (run_id, task_id, from_state, to_state, reason, by, time, detail)
       SELECT $2, $3, $21, $18, $19, $22::text, $20, $23::text FROM upd),
     ${attemptSql(' FROM upd')}
     SELECT (SELECT applies FROM quota) AS quota, (SELECT count(*) FROM upd)::int AS n,
            (SELECT fencing_token FROM ins) AS fencing_token`,
);

/** Writes the attempt's result once; returns its run and task. */
export async function closeAttempt(
  c: PoolClient,
  attemptId: string,
  finish: AttemptFinish,
): Promise<{ runId: string; taskId: string }> {
  const { rows } = await c.query<{ run_id: string; task_id: string }>(CLOSE_ATTEMPT, [
    attemptId,
    ...resultValues(finish),
  ]);
  const row = rows[0];
  if (!row) throw new StaleStateError(`attempt ${attemptId} is not running`);
  const names = Object.keys(finish.outputs);
  if (names.length > 0)
    await c.query(INSERT_OUTPUTS, [attemptId, names, names.map((n) => finish.outputs[n])]);
  return { runId: row.run_id, taskId: row.task_id };
}

const CLOSE_ATTEMPT = prepared(
  `UPDATE attempts SET ${resultSets(2)} WHERE id = $1 AND status = 'running' RETURNING run_id, task_id`,
);
const INSERT_OUTPUTS = prepared(
  'INSERT INTO outputs (attempt_id, name, value) SELECT $1, name, value FROM unnest($2::text[], $3::text[]) AS x (name, value)',
);
const OUTPUTS_OF = prepared(
  'SELECT attempt_id, name, value FROM outputs WHERE attempt_id = ANY ($1::text[]) ORDER BY attempt_id, name',
);

/** The outputs of several attempts in one query. */
export async function outputsOf(db: Db, attemptIds: string[]): Promise<Map<string, Record<string, string>>> {
  const byAttempt = new Map<string, Record<string, string>>();
  if (attemptIds.length === 0) return byAttempt;
  const { rows } = await db.query<{ attempt_id: string; name: string; value: string }>(OUTPUTS_OF, [
    attemptIds,
  ]);
  for (const r of rows) {
    const outputs = byAttempt.get(r.attempt_id) ?? {};
    outputs[r.name] = r.value;
    byAttempt.set(r.attempt_id, outputs);
  }
  return byAttempt;
}
