/**
 * The writes PostgresStore composes inside one transaction: a task's compare-and-set transition
 * and an attempt's one-time result (the trigger of migrations.ts refuses any later change).
 */
import type { PoolClient } from 'pg';
import type { Db } from './reconnect.ts';
import { NotFoundError } from '../../../core/index.ts';
import { StaleStateError } from '../../errors.ts';
import type { AttemptFinish, TaskTransitionWrite } from '../store.ts';
import { TASK_PATCH_COLUMNS } from '../row-values.ts';

export async function transitionTask(
  c: PoolClient,
  runId: string,
  taskId: string,
  t: TaskTransitionWrite,
): Promise<void> {
  const patch = t.patch ?? {};
  const args: unknown[] = [t.to, t.reason, t.time];
  const sets = ['state = $1', 'reason = $2', 'updated_at = $3'];
  for (const [key, column] of TASK_PATCH_COLUMNS) {
    if (patch[key] === undefined) continue;
    args.push(patch[key]);
    sets.push(`${column} = $${args.length}`);
  }
  // Leaving `ready` ends any claim on the task: the next time it is ready it is claimable again.
  if (t.from === 'ready') sets.push('claim_expires_at = NULL');
  args.push(runId, taskId, t.from);
  const n = args.length;
  const { rowCount } = await c.query(
    `UPDATE tasks SET ${sets.join(', ')} WHERE run_id = $${n - 2} AND task_id = $${n - 1} AND state = $${n}`,
    args,
  );
  if (rowCount !== 1) {
    const exists = await c.query('SELECT 1 FROM tasks WHERE run_id = $1 AND task_id = $2', [runId, taskId]);
    if (exists.rowCount === 0) throw new NotFoundError('task', `${runId}/${taskId}`);
    throw new StaleStateError(`task ${runId}/${taskId} is no longer ${t.from}`);
  }
  await c.query(
    'INSERT INTO transitions (run_id, task_id, from_state, to_state, reason, by, time, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
    [runId, taskId, t.from, t.to, t.reason, t.by, t.time, t.detail ?? null],
  );
}

/** Writes the attempt's result once; returns its run and task. */
export async function closeAttempt(
  c: PoolClient,
  attemptId: string,
  finish: AttemptFinish,
): Promise<{ runId: string; taskId: string }> {
  const { rows } = await c.query<{ run_id: string; task_id: string }>(
    `UPDATE attempts SET status = 'finished', outcome = $1, exit_code = $2, signal = $3, retryable = $4, reason = $5,
       message = $6, finished_at = $7, cache_hit = $8, policy_decisions = $9, state = $11 WHERE id = $10 AND status = 'running'
     RETURNING run_id, task_id`,
    [
      finish.outcome,
      finish.exitCode,
      finish.signal,
      finish.retryable,
      finish.reason,
      finish.message,
      finish.finishedAt,
      finish.cacheHit,
      JSON.stringify(finish.policyDecisionIds),
      attemptId,
      finish.state ?? null,
    ],
  );
  const row = rows[0];
  if (!row) throw new StaleStateError(`attempt ${attemptId} is not running`);
  const names = Object.keys(finish.outputs);
  if (names.length > 0)
    await c.query(
      'INSERT INTO outputs (attempt_id, name, value) SELECT $1, name, value FROM unnest($2::text[], $3::text[]) AS x (name, value)',
      [attemptId, names, names.map((n) => finish.outputs[n])],
    );
  return { runId: row.run_id, taskId: row.task_id };
}

/** The outputs of several attempts in one query. */
export async function outputsOf(db: Db, attemptIds: string[]): Promise<Map<string, Record<string, string>>> {
  const byAttempt = new Map<string, Record<string, string>>();
  if (attemptIds.length === 0) return byAttempt;
  const { rows } = await db.query<{ attempt_id: string; name: string; value: string }>(
    'SELECT attempt_id, name, value FROM outputs WHERE attempt_id = ANY ($1::text[]) ORDER BY attempt_id, name',
    [attemptIds],
  );
  for (const r of rows) {
    const outputs = byAttempt.get(r.attempt_id) ?? {};
    outputs[r.name] = r.value;
    byAttempt.set(r.attempt_id, outputs);
  }
  return byAttempt;
}
