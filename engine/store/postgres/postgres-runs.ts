/**
 * A run's rows on PostgreSQL: its creation (one statement, waking the workers when queued), the listing with its filters and
 * keyset, and the compare-and-set run transition (one statement, the fence riding in it).
 */
import type { Fence } from '../async-store.ts';
import { RunNotFoundError } from '../../errors.ts';
import type { NewRun, RunFilter, RunRecord, RunTransitionWrite, TransitionRecord } from '../store.ts';
import { initialRunState, newRunValues, runLabels } from '../row-values.ts';
import { toRun, toTransition, type Row } from '../sqlite/rows.ts';
import type { Db } from './reconnect.ts';
import { checkFenceToken, fencedStatement, type FenceSql } from './postgres-leases.ts';
import { prepared, type Prepared } from './prepared.ts';
import { RUNS_CHANNEL } from './postgres-notify.ts';

const terminalRun = ['succeeded', 'failed', 'cancelled', 'timed_out'];

/**
 * One statement (data-modifying CTEs), so one round trip and atomic without BEGIN/COMMIT: the
 * run, its tasks, its executor lease (free, so claimRun can lock its row) and the transitions,
 * the run's first and then its tasks' in plan order (as the SQLite store writes them: the
 * INSERT … SELECT … ORDER BY takes the ids in that order).
 */
export async function createRun(db: Db, run: NewRun): Promise<RunRecord> {
  const { rows } = await db.query<Row>(CREATE_RUN, [
    ...newRunValues(run),
    ...initialRunState(run),
    run.plan.tasks.map((t) => t.id),
    run.by,
    runLabels(run).map(([key]) => key),
    runLabels(run).map(([, value]) => value),
  ]);
  return toRun(rows[0]!);
}

const CREATE_RUN = prepared(
  `WITH run AS (
       INSERT INTO runs (id, workflow, namespace, plan_digest, plan, params, trigger, actor, priority,
         status, reason, created_at, approval_digest, source, trust, trace_parent)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $15, $16, $10, $11, $12, $13, $14) RETURNING *),
     task_ids AS (
       SELECT task_id, position FROM unnest($17::text[]) WITH ORDINALITY AS x (task_id, position)),
     tasks AS (
       INSERT INTO tasks (run_id, task_id, position, state, reason, updated_at)
       SELECT $1, task_id, position - 1, 'queued', 'created', $10 FROM task_ids),
     lease AS (
       INSERT INTO leases (name, owner, token, expires_at) VALUES ('run:' || $1, '', nextval('lease_tokens'), 0)
       ON CONFLICT (name) DO NOTHING),
     transitions AS (
       INSERT INTO transitions (run_id, task_id, from_state, to_state, reason, by, time)
       SELECT $1, task_id, NULL, to_state, reason, $18, $10 FROM (
         SELECT NULL::text AS task_id, $15::text AS to_state, $16::text AS reason, 0::bigint AS position
         UNION ALL SELECT task_id, 'queued', 'created', position FROM task_ids) AS t ORDER BY position),
     labels AS (
       INSERT INTO run_labels (run_id, key, value) SELECT $1, key, value FROM unnest($19::text[], $20::text[]) AS l (key, value)),
     notified AS (SELECT pg_notify('${RUNS_CHANNEL}', $1) WHERE $15::text = 'queued')
     SELECT *, (SELECT count(*) FROM notified) AS notified FROM run`,
);

/** Records who asked to cancel run `runId`; RunNotFoundError for an unknown run. */
export async function requestCancel(db: Db, runId: string, by: string): Promise<void> {
  const { rowCount } = await db.query(REQUEST_CANCEL, [by, runId]);
  if (rowCount !== 1) throw new RunNotFoundError(runId);
}

export async function clearCancel(db: Db, runId: string): Promise<void> {
  await db.query(CLEAR_CANCEL, [runId]);
}

const REQUEST_CANCEL = prepared('UPDATE runs SET cancel_requested_by = $1 WHERE id = $2');
const CLEAR_CANCEL = prepared('UPDATE runs SET cancel_requested_by = NULL WHERE id = $1');

export async function listRuns(db: Db, filter: RunFilter): Promise<RunRecord[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (clause: (p: string) => string, value: unknown) => {
    args.push(value);
    where.push(clause(`$${args.length}`));
  };
  if (filter.status?.length) add((p) => `status = ANY (${p}::text[])`, filter.status);
  if (filter.workflow !== undefined) add((p) => `workflow = ${p}`, filter.workflow);
  if (filter.namespace !== undefined) add((p) => `namespace = ${p}`, filter.namespace);
  if (filter.sha !== undefined) add((p) => `source ->> 'commit' = ${p}`, filter.sha);
  if (filter.since !== undefined) add((p) => `created_at >= ${p}`, filter.since);
  if (filter.until !== undefined) add((p) => `created_at <= ${p}`, filter.until);
  if (filter.namespaces) add((p) => `namespace = ANY (${p}::text[])`, filter.namespaces);
  for (const [key, value] of Object.entries(filter.labels ?? {})) {
    // Through the label index (migration 8), not each run's plan JSON (EXISTS: see sqlite-records.ts).
    args.push(key, value);
    where.push(
      `EXISTS (SELECT 1 FROM run_labels l WHERE l.key = $${args.length - 1} AND l.value = $${args.length} AND l.run_id = runs.id)`,
    );
  }
  if (filter.before) {
    add((p) => `created_at <= ${p}`, filter.before.createdAt);
    args.push(filter.before.createdAt, filter.before.id);
    where.push(`(created_at < $${args.length - 1} OR id < $${args.length})`);
  }
  const order = filter.before !== undefined ? 'created_at DESC, id DESC' : 'seq DESC';
  args.push(filter.limit ?? null); // LIMIT NULL: no limit
  const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT $${args.length}`;
  return (await db.query<Row>(listStatement(sql, filter.labels), args)).rows.map(toRun);
}

/**
 * The listing's text, prepared when it filters on no label: its text is then one of a bounded
 * set (each filter there or not, two orders: at most 256 texts, a handful in use), and one of
 * them runs once per succeeded run (the recovery look-back, api/recovery-time.ts), so parsing and
 * planning it every time cost more than running it. A label filter's text grows with its labels:
 * never prepared (prepared.ts).
 */
function listStatement(sql: string, labels: RunFilter['labels']): string | Prepared {
  if (Object.keys(labels ?? {}).length > 0) return sql;
  let statement = listTexts.get(sql);
  if (!statement) listTexts.set(sql, (statement = prepared(sql)));
  return statement;
}

const listTexts = new Map<string, Prepared>();

/**
 * `UPDATE runs … WHERE status = from` and its transition row in one statement; with `fence`,
 * conditioned on the run lease's token (LeaseLostError). False (nothing written) when the run is
 * not in `from`.
 */
export async function transitionRun(
  c: Db,
  runId: string,
  t: RunTransitionWrite,
  fence?: Fence,
): Promise<boolean> {
  const startedAt = t.to === 'running' ? t.time : null;
  const finishedAt = terminalRun.includes(t.to) ? t.time : null;
  const args: unknown[] = [
    t.to,
    t.reason,
    startedAt,
    finishedAt,
    runId,
    t.from,
    t.patch?.approvalDigest ?? null,
  ];
  args.push(t.by, t.time);
  const statement = (t.to === 'queued' ? TRANSITION_RUN_REQUEUED : TRANSITION_RUN)(fence, args);
  const { rows } = await c.query<Row>(statement, args);
  checkFenceToken(rows[0], fence);
  return Number(rows[0]?.n) === 1;
}

/** The run transition's text: fenced or not, and waking the workers when the run is requeued. */
function transitionRunSql(f: FenceSql, requeue: boolean): string {
  // Back to queued (a retry, an approval): it needs an executor again; wake the workers.
  const requeued = requeue
    ? `,\n     notified AS (SELECT pg_notify('${RUNS_CHANNEL}', $5::text) FROM upd)`
    : '';
  return `WITH ${f.with}upd AS (
       UPDATE runs SET status = $1, reason = $2, started_at = coalesce(started_at, $3::bigint), finished_at = $4::bigint,
         approval_digest = coalesce($7::text, approval_digest) WHERE id = $5 AND status = $6 AND ${f.ok} RETURNING 1),
     ins AS (
       INSERT INTO transitions (run_id, task_id, from_state, to_state, reason, by, time)
       SELECT $5, NULL, $6, $1, $2, $8::text, $9::bigint FROM upd)${requeued}
     SELECT (SELECT count(*) FROM upd)::int AS n, ${f.token}${requeue ? ', (SELECT count(*) FROM notified)' : ''}`;
}
const TRANSITION_RUN = fencedStatement(9, (f) => transitionRunSql(f, false));
const TRANSITION_RUN_REQUEUED = fencedStatement(9, (f) => transitionRunSql(f, true));

export async function listTransitions(
  db: Db,
  runId: string,
  taskId?: string | null,
): Promise<TransitionRecord[]> {
  const { rows } =
    taskId === undefined
      ? await db.query<Row>(TRANSITIONS_ALL, [runId])
      : taskId === null
        ? await db.query<Row>(TRANSITIONS_RUN, [runId])
        : await db.query<Row>(TRANSITIONS_TASK, [runId, taskId]);
  return rows.map(toTransition);
}

const TRANSITIONS_ALL = prepared('SELECT * FROM transitions WHERE run_id = $1 ORDER BY id');
const TRANSITIONS_RUN = prepared(
  'SELECT * FROM transitions WHERE run_id = $1 AND task_id IS NULL ORDER BY id',
);
const TRANSITIONS_TASK = prepared('SELECT * FROM transitions WHERE run_id = $1 AND task_id = $2 ORDER BY id');
