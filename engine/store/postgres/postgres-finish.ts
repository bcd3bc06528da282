/**
 * An attempt's result on PostgreSQL in one statement (one round trip, atomic without BEGIN and
 * COMMIT): the fence, the attempt's last log lines, the result, its outputs, the task's next
 * transition, the transitions of the dependants it decides, and the release of the attempt's lease.
 *
 * It was a transaction of six or seven round trips (BEGIN with the run fence, the attempt lease
 * `FOR UPDATE`, the result, the outputs, each transition, the release, COMMIT). The statement
 * keeps its all-or-nothing and its order of checks without a transaction of its own: it first
 * locks, `FOR UPDATE`, every row whose state a write depends on (the attempt's lease, the attempt,
 * the tasks it moves; in that order, as the transaction locked them), so each lock returns the
 * row's newest committed version (READ COMMITTED re-reads a row it had to wait for) and nothing
 * can change them before this statement commits. Every write is conditioned on all those checks
 * at once (`ok.all`), so either every write lands or none does; the checks come back with the
 * row and `checkFinish` throws what the transaction threw, in its order: the run's fence
 * (LeaseLostError), the attempt's lease (LeaseLostError: another token, expired, or released by
 * an earlier result), an attempt no longer running (StaleStateError), a task not in the state
 * its transition leaves (StaleStateError; NotFoundError for an unknown task).
 */
import type { Db } from './reconnect.ts';
import { NotFoundError } from '../../../core/index.ts';
import { LeaseLostError, StaleStateError } from '../../errors.ts';
import type { Fence } from '../async-store.ts';
import type { AttemptFinish, StoredLogLine, TaskTransitionWrite } from '../store.ts';
import { checkFenceToken, fencedStatement } from './postgres-leases.ts';
import { patchJson, resultSets, resultValues, taskPatchSets } from './postgres-writes.ts';

type Row = Record<string, unknown>;

export interface FinishWrite {
  attemptId: string;
  token: number;
  now: number;
  finish: AttemptFinish;
  /** The attempt's task's next transition. */
  transition?: TaskTransitionWrite;
  /** Other tasks of the run this result decides (dependants becoming ready). */
  others: readonly { taskId: string; write: TaskTransitionWrite }[];
  /** The attempt's last log lines, stored before the result (lower ids), only with it. */
  lines: readonly StoredLogLine[];
}

/** Stores the result (see the file's comment); throws as the transaction it replaces did. */
export async function storeAttemptResult(db: Db, w: FinishWrite, fence?: Fence): Promise<void> {
  const args = finishArgs(w);
  const { rows } = await db.query<Row>(FINISH(fence, args), args);
  checkFinish(rows[0], w, fence);
}

/** The moves in order: the attempt's task first (index 0, its id from the attempt row), then the others. */
function movesOf(w: FinishWrite): { taskId: string | null; write: TaskTransitionWrite }[] {
  return [...(w.transition ? [{ taskId: null, write: w.transition }] : []), ...w.others];
}

/** FINISH's parameters: the moves, whatever their number and patches, go as arrays. */
function finishArgs(w: FinishWrite): unknown[] {
  const { finish } = w;
  const moves = movesOf(w);
  const names = Object.keys(finish.outputs);
  return [
    `attempt:${w.attemptId}`,
    w.attemptId,
    w.token,
    w.now,
    ...resultValues(finish), // $5 to $14
    names,
    names.map((n) => finish.outputs[n]),
    moves.map((m) => m.taskId),
    moves.map((m) => m.write.from),
    moves.map((m) => m.write.to),
    moves.map((m) => m.write.reason),
    moves.map((m) => m.write.by),
    moves.map((m) => m.write.time),
    moves.map((m) => m.write.detail ?? null),
    moves.map((m) => patchJson(m.write)),
    w.lines.map((l) => l.runId),
    w.lines.map((l) => l.taskId),
    w.lines.map((l) => l.attempt),
    w.lines.map((l) => l.stream),
    w.lines.map((l) => l.time),
    w.lines.map((l) => l.text),
  ];
}

/**
 * The statement, in its two texts (fenced or not), prepared: one UPDATE moves every task, each
 * row with its own transition and patch (taskPatchSets), so the text does not depend on the moves.
 */
const FINISH = fencedStatement(
  30,
  (f) => `WITH ${f.with}lease AS (
       SELECT token, expires_at FROM leases WHERE name = $1 FOR UPDATE),
     attempt AS (
       SELECT run_id, task_id FROM attempts WHERE id = $2 AND status = 'running' FOR UPDATE),
     move AS (
       SELECT x.ord, a.run_id, coalesce(x.task_id, a.task_id) AS task_id, x.from_state, x.to_state, x.reason,
              x.by, x.time, x.detail, x.patch::jsonb AS patch
         FROM attempt a, unnest($17::text[], $18::text[], $19::text[], $20::text[], $21::text[], $22::bigint[],
              $23::text[], $24::text[])
              WITH ORDINALITY AS x (task_id, from_state, to_state, reason, by, time, detail, patch, ord)),
     locked AS (
       SELECT m.ord, t.state FROM tasks t JOIN move m ON t.run_id = m.run_id AND t.task_id = m.task_id
        ORDER BY m.ord FOR UPDATE OF t),
     checks AS (
       SELECT coalesce((SELECT token = $3::bigint AND expires_at >= $4::bigint FROM lease), false) AS leased,
              ${f.ok} AS fenced,
              EXISTS (SELECT 1 FROM attempt) AS running,
              (SELECT coalesce(array_agg(m.ord ORDER BY m.ord), '{}') FROM move m
                WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.ord = m.ord AND l.state = m.from_state)) AS stale,
              (SELECT coalesce(array_agg(m.ord), '{}') FROM move m
                WHERE NOT EXISTS (SELECT 1 FROM locked l WHERE l.ord = m.ord)) AS missing),
     ok AS (SELECT leased AND fenced AND running AND cardinality(stale) = 0 AS all_ok FROM checks),
     lines AS (
       INSERT INTO logs (run_id, task_id, attempt, stream, time, text)
       SELECT run_id, task_id, attempt, stream, time, text
         FROM unnest($25::text[], $26::text[], $27::integer[], $28::text[], $29::bigint[], $30::text[])
              WITH ORDINALITY AS x (run_id, task_id, attempt, stream, time, text, n)
        WHERE (SELECT all_ok FROM ok) ORDER BY n),
     closed AS (
       UPDATE attempts SET ${resultSets(5)}
        WHERE id = $2 AND status = 'running' AND (SELECT all_ok FROM ok) RETURNING 1),
     outs AS (
       INSERT INTO outputs (attempt_id, name, value)
       SELECT $2, name, value FROM unnest($15::text[], $16::text[]) AS x (name, value)
        WHERE (SELECT all_ok FROM ok)),
     moved AS (
       UPDATE tasks t SET state = m.to_state, reason = m.reason, updated_at = m.time,
              ${taskPatchSets('m.patch', 'm.from_state')}
         FROM move m
        WHERE t.run_id = m.run_id AND t.task_id = m.task_id AND t.state = m.from_state
          AND (SELECT all_ok FROM ok) RETURNING m.ord),
     ins AS (
       INSERT INTO transitions (run_id, task_id, from_state, to_state, reason, by, time, detail)
       SELECT m.run_id, m.task_id, m.from_state, m.to_state, m.reason, m.by, m.time, m.detail
         FROM move m WHERE m.ord IN (SELECT ord FROM moved) ORDER BY m.ord),
     released AS (
       UPDATE leases SET expires_at = 0 WHERE name = $1 AND (SELECT all_ok FROM ok) RETURNING 1)
     SELECT c.leased, c.running, c.stale, c.missing, (SELECT run_id FROM attempt) AS run_id,
            (SELECT task_id FROM attempt) AS task_id, (SELECT count(*) FROM closed)::int AS closed,
            ${f.token}
       FROM checks c`,
);

/** What the transaction threw, in its order of checks; nothing was written when it throws. */
function checkFinish(row: Row | undefined, w: FinishWrite, fence: Fence | undefined): void {
  checkFenceToken(row, fence);
  if (row?.leased !== true) throw new LeaseLostError(`attempt:${w.attemptId}`);
  const first = (row.stale as unknown[]).map(Number)[0];
  if (row.running !== true || (first === undefined && Number(row.closed) !== 1))
    throw new StaleStateError(`attempt ${w.attemptId} is not running`);
  if (first === undefined) return;
  const move = movesOf(w)[first - 1]!;
  const task = `${String(row.run_id)}/${move.taskId ?? String(row.task_id)}`;
  if ((row.missing as unknown[]).map(Number).includes(first)) throw new NotFoundError('task', task);
  throw new StaleStateError(`task ${task} is no longer ${move.write.from}`);
}
