/**
 * The writes SqliteStore composes inside one transaction (its caller's BEGIN IMMEDIATE): a
 * transition row, a task's compare-and-set transition, an attempt's start with its lease, and an
 * attempt's one-time result (the trigger of migrations.ts refuses any later change).
 */
import type { SQLInputValue } from 'node:sqlite';
import { NotFoundError } from '../../../core/index.ts';
import { StaleStateError, TaskQuotaError } from '../../errors.ts';
import { overTaskQuota, taskQuotaSql, toTaskQuota } from '../budget-sql.ts';
import type { AttemptFinish, AttemptStart, RunTransitionWrite, TaskTransitionWrite } from '../store.ts';
import { TASK_PATCH_COLUMNS, attemptStartValues } from '../row-values.ts';
import { acquire, type Sql } from './sqlite-leases.ts';

export function insertTransition(
  sql: Sql,
  runId: string,
  taskId: string | null,
  from: string | null,
  to: string,
  reason: string,
  by: string,
  time: number,
  detail: string | null,
): void {
  sql.run(
    'INSERT INTO transitions (run_id, task_id, from_state, to_state, reason, by, time, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    runId,
    taskId,
    from,
    to,
    reason,
    by,
    time,
    detail,
  );
}

const terminalRun = ['succeeded', 'failed', 'cancelled', 'timed_out'];

/** `UPDATE runs … WHERE status = from` and its transition row; false (nothing written) when it moved. */
export function transitionRun(sql: Sql, runId: string, t: RunTransitionWrite): boolean {
  const startedAt = t.to === 'running' ? t.time : null;
  const finishedAt = terminalRun.includes(t.to) ? t.time : null;
  const changed = sql.run(
    `UPDATE runs SET status = ?, reason = ?, started_at = coalesce(started_at, ?),
       finished_at = CASE WHEN ? IS NULL THEN NULL ELSE ? END,
       approval_digest = coalesce(?, approval_digest) WHERE id = ? AND status = ?`,
    t.to,
    t.reason,
    startedAt,
    finishedAt,
    finishedAt,
    t.patch?.approvalDigest ?? null,
    runId,
    t.from,
  );
  if (changed !== 1) return false;
  insertTransition(sql, runId, null, t.from, t.to, t.reason, t.by, t.time, null);
  return true;
}

/** `UPDATE … WHERE state = from` and its transition row; StaleStateError when the state moved. */
export function transitionTask(sql: Sql, runId: string, taskId: string, t: TaskTransitionWrite): void {
  const patch = t.patch ?? {};
  const sets = ['state = ?', 'reason = ?', 'updated_at = ?'];
  const args: SQLInputValue[] = [t.to, t.reason, t.time];
  for (const [key, column] of TASK_PATCH_COLUMNS) {
    const value = patch[key];
    if (value === undefined) continue;
    sets.push(`${column} = ?`);
    args.push(value);
  }
  const changed = sql.run(
    `UPDATE tasks SET ${sets.join(', ')} WHERE run_id = ? AND task_id = ? AND state = ?`,
    ...args,
    runId,
    taskId,
    t.from,
  );
  if (changed !== 1) {
    if (!sql.get('SELECT 1 FROM tasks WHERE run_id = ? AND task_id = ?', runId, taskId))
      throw new NotFoundError('task', `${runId}/${taskId}`);
    throw new StaleStateError(`task ${runId}/${taskId} is no longer ${t.from}`);
  }
  insertTransition(sql, runId, taskId, t.from, t.to, t.reason, t.by, t.time, t.detail ?? null);
}

/**
 * The namespace's tasks quota at an attempt's start: TaskQuotaError (nothing written) when it has
 * no slot for this task. Inside the start's transaction, which holds SQLite's write lock, so two
 * starts (two connections, two processes) never count the same slot.
 */
export function checkTaskQuota(sql: Sql, start: AttemptStart): void {
  const { text, args } = taskQuotaSql(numbered, start.runId, start.taskId, start.startedAt);
  const quota = toTaskQuota(sql.get(text, ...args));
  if (overTaskQuota(quota)) throw new TaskQuotaError(quota!.namespace, quota!.limit);
}

const numbered = (n: number): string => `?${n}`;

/** The attempt row (with its lease, under a fresh token) and its task's transition; the token. */
export function startAttempt(sql: Sql, start: AttemptStart, transition?: TaskTransitionWrite): number {
  checkTaskQuota(sql, start);
  if (transition) transitionTask(sql, start.runId, start.taskId, transition);
  const lease = acquire(sql, `attempt:${start.id}`, start.owner, start.startedAt, start.leaseMs, false);
  sql.run(
    `INSERT INTO attempts (id, run_id, task_id, attempt, status, inputs, work_dir, artifacts_dir, cache_key,
       started_at, fencing_token, placement, price_per_hour, estimated_cost, on_demand_per_hour)
       VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ...attemptStartValues(start, lease.token),
  );
  return lease.token;
}

/** Writes the attempt's result once, with its outputs. */
export function closeAttempt(sql: Sql, attemptId: string, finish: AttemptFinish): void {
  const changed = sql.run(
    `UPDATE attempts SET status = 'finished', outcome = ?, exit_code = ?, signal = ?, retryable = ?, reason = ?,
       message = ?, finished_at = ?, cache_hit = ?, policy_decisions = ?, state = ? WHERE id = ? AND status = 'running'`,
    finish.outcome,
    finish.exitCode,
    finish.signal,
    finish.retryable ? 1 : 0,
    finish.reason,
    finish.message,
    finish.finishedAt,
    finish.cacheHit ? 1 : 0,
    JSON.stringify(finish.policyDecisionIds),
    finish.state ?? null,
    attemptId,
  );
  if (changed !== 1) throw new StaleStateError(`attempt ${attemptId} is not running`);
  for (const [name, value] of Object.entries(finish.outputs))
    sql.run('INSERT INTO outputs (attempt_id, name, value) VALUES (?, ?, ?)', attemptId, name, value);
}

export function outputsOf(sql: Sql, attemptId: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const r of sql.all('SELECT name, value FROM outputs WHERE attempt_id = ? ORDER BY name', attemptId))
    outputs[String(r.name)] = String(r.value);
  return outputs;
}
