/**
 * The store's reads on PostgreSQL that are not a run's creation or listing (postgres-runs.ts):
 * a run, its tasks, attempts and outputs, the transitions feed, leases and cancel requests. Each
 * one statement on the pool, the constant texts prepared (prepared.ts).
 */
import { NotFoundError } from '../../../core/index.ts';
import { RunNotFoundError } from '../../errors.ts';
import type { AttemptRecord, FeedQuery, FeedTransition, Lease, RunRecord, TaskRecord } from '../store.ts';
import { toAttempt, toFeedTransition, toRun, toTask, type Row } from '../sqlite/rows.ts';
import type { Db } from './reconnect.ts';
import { toLease } from './postgres-leases.ts';
import { outputsOf } from './postgres-writes.ts';
import { prepared, type Prepared } from './prepared.ts';

const all = async (db: Db, sql: string | Prepared, args: unknown[] = []) =>
  (await db.query<Row>(sql, args)).rows;

export async function getRun(db: Db, runId: string): Promise<RunRecord> {
  const row = (await all(db, GET_RUN, [runId]))[0];
  if (!row) throw new RunNotFoundError(runId);
  return toRun(row);
}

export async function runCancelRequestedBy(db: Db, runId: string): Promise<string | null> {
  const row = (await all(db, CANCEL_REQUESTED_BY, [runId]))[0];
  if (!row) throw new RunNotFoundError(runId);
  return row.by === null ? null : String(row.by);
}

export async function runCancelRequests(db: Db, runIds: readonly string[]): Promise<Map<string, string>> {
  if (runIds.length === 0) return new Map();
  const rows = await all(db, CANCEL_REQUESTS, [runIds]);
  return new Map(rows.map((r) => [String(r.id), String(r.by)]));
}

export async function listTasks(db: Db, runId: string): Promise<TaskRecord[]> {
  return (await all(db, LIST_TASKS, [runId])).map(toTask);
}

export async function getTask(db: Db, runId: string, taskId: string): Promise<TaskRecord> {
  const row = (await all(db, GET_TASK, [runId, taskId]))[0];
  if (!row) throw new NotFoundError('task', `${runId}/${taskId}`);
  return toTask(row);
}

export async function listTransitionsAfter(db: Db, query: FeedQuery): Promise<FeedTransition[]> {
  const only = query.namespaces ? 'AND r.namespace = ANY($3::text[])' : '';
  const rows = await all(
    db,
    `SELECT t.*, r.namespace, r.workflow FROM transitions t JOIN runs r ON r.id = t.run_id
      WHERE t.id > $1 ${only} ORDER BY t.id LIMIT $2`,
    [query.afterId, query.limit, ...(query.namespaces ? [query.namespaces] : [])],
  );
  return rows.map(toFeedTransition);
}

export async function lastTransitionId(db: Db): Promise<number> {
  return Number((await all(db, 'SELECT COALESCE(MAX(id), 0) AS id FROM transitions'))[0]!.id);
}

export async function listAttempts(db: Db, runId: string, taskId?: string): Promise<AttemptRecord[]> {
  const rows =
    taskId === undefined
      ? await all(db, RUN_ATTEMPTS, [runId])
      : await all(db, TASK_ATTEMPTS, [runId, taskId]);
  const outputs = await outputsOf(
    db,
    rows.map((r) => String(r.id)),
  );
  return rows.map((row) => toAttempt(row, outputs.get(String(row.id)) ?? {}));
}

export async function taskOutputs(db: Db, runId: string, taskId: string): Promise<Record<string, string>> {
  const row = (await all(db, LAST_SUCCESS, [runId, taskId]))[0];
  if (!row) return {};
  return (await outputsOf(db, [String(row.id)])).get(String(row.id)) ?? {};
}

export async function getLease(db: Db, name: string): Promise<Lease | undefined> {
  const r = (await all(db, GET_LEASE, [name]))[0];
  return r ? toLease(r) : undefined;
}

const GET_RUN = prepared('SELECT * FROM runs WHERE id = $1');
const CANCEL_REQUESTED_BY = prepared('SELECT cancel_requested_by AS by FROM runs WHERE id = $1');
const CANCEL_REQUESTS = prepared(
  'SELECT id, cancel_requested_by AS by FROM runs WHERE id = ANY ($1::text[]) AND cancel_requested_by IS NOT NULL',
);
const LIST_TASKS = prepared('SELECT * FROM tasks WHERE run_id = $1 ORDER BY position');
const GET_TASK = prepared('SELECT * FROM tasks WHERE run_id = $1 AND task_id = $2');
const RUN_ATTEMPTS = prepared('SELECT * FROM attempts WHERE run_id = $1 ORDER BY started_at, attempt');
const TASK_ATTEMPTS = prepared('SELECT * FROM attempts WHERE run_id = $1 AND task_id = $2 ORDER BY attempt');
const LAST_SUCCESS = prepared(
  `SELECT id FROM attempts WHERE run_id = $1 AND task_id = $2 AND outcome IN ('succeeded', 'cached')
     ORDER BY attempt DESC LIMIT 1`,
);
const GET_LEASE = prepared('SELECT * FROM leases WHERE name = $1');
