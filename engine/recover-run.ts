/**
 * Recovery when an engine resumes a run another engine was executing (crash, kill -9, a worker
 * whose lease expired): attempts still marked running are re-attached when their runner can, or
 * closed as interrupted (fencing out their old worker) and their tasks re-attempted
 * (reattempt.ts) or failed with reason `interrupted`; finished tasks stay.
 */
import { Reason, TaskState, type RunnerHandle } from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import type { EngineContext } from './context.ts';
import { reattemptsSinceUserRetry } from './reattempt.ts';
import type { AttemptRecord, RunRecord, TaskRecord } from './store/store.ts';

export interface Reattached {
  attempt: AttemptRecord;
  handle: RunnerHandle;
  token: number;
}

/**
 * For attempts left running, asks their runner to re-attach (backends whose work outlives the
 * engine, such as a Kubernetes Job). A re-attached attempt's lease is taken over (new token), so
 * the previous engine, if it ever came back, could not write its result.
 */
export async function reattachRunning(ctx: EngineContext, run: RunRecord): Promise<Reattached[]> {
  const found: Reattached[] = [];
  const plans = new Map(run.plan.tasks.map((t) => [t.id, t]));
  for (const attempt of await ctx.store.listAttempts(run.id)) {
    if (attempt.status !== 'running') continue;
    const runner = ctx.runners.get(plans.get(attempt.taskId)?.runner ?? '');
    if (!runner?.reattach) continue;
    let handle: RunnerHandle | undefined;
    try {
      // The place recorded when it started (a Kubernetes cluster), not today's config's answer.
      handle = await runner.reattach(
        { runId: run.id, taskId: attempt.taskId, attempt: attempt.attempt, attemptId: attempt.id },
        {
          redact: Object.values(ctx.secrets),
          outputs: plans.get(attempt.taskId)?.outputs ?? [],
          ...(attempt.placement ? { placement: attempt.placement } : {}),
        },
      );
    } catch (error) {
      ctx.logger.warn({ runId: run.id, taskId: attempt.taskId, err: String(error) }, 'reattach failed');
    }
    if (!handle) continue;
    const lease = await ctx.store.acquireLease(
      `attempt:${attempt.id}`,
      ctx.owner,
      ctx.clock.now(),
      ctx.leaseMs,
      true,
    );
    found.push({ attempt, handle, token: lease.token });
  }
  return found;
}

/** Inside the run's queue (its first event). */
export async function recoverInterrupted(
  exec: AttemptHost,
  by: string,
  reattached: readonly Reattached[] = [],
): Promise<void> {
  const { store, clock } = exec.ctx;
  const adopted = new Set(reattached.map((r) => r.attempt.taskId));
  for (const attempt of await store.listAttempts(exec.runId)) {
    if (attempt.status !== 'running' || adopted.has(attempt.taskId)) continue;
    await store.interruptAttempt(attempt.id, clock.now(), INTERRUPTED_BY);
    void exec.taskLog(
      attempt.taskId,
      attempt.attempt,
      'system',
      `attempt ${attempt.attempt} was interrupted`,
    );
  }
  for (const t of exec.allTasks()) {
    // A ready task on a durable timer stays ready: its stored time is re-armed below.
    if (t.state === TaskState.ready && t.notBefore === null)
      await exec.transitionTask(t.taskId, TaskState.queued, Reason.resumed, by);
    if (t.state !== TaskState.running || adopted.has(t.taskId)) continue;
    await reattemptOrFail(exec, t, by);
  }
  // Retry waits and durable timers pending when the engine stopped continue from their stored time.
  for (const t of exec.allTasks()) exec.armTimer(t.taskId);
}

export const INTERRUPTED_BY = 'the engine executing this attempt stopped (crash or kill)';

/**
 * A crash is not the task's failure: its lost attempt is re-attempted at once, outside its retry
 * policy (retryBase moves past the lost attempt, so `retry.limit` still counts only real
 * failures), unless the task says `onInterrupt: fail` (it must never run twice: a person
 * decides) or it has been re-attempted `reattempts` times since its last user retry (a task that
 * brings its engine down every time must not loop forever).
 */
async function reattemptOrFail(exec: AttemptHost, t: TaskRecord, by: string): Promise<void> {
  const cap = exec.ctx.reattempts;
  const where = { runId: exec.runId, taskId: t.taskId, attempt: t.attempts, cap };
  if (exec.planTask(t.taskId).onInterrupt === 'fail') {
    await exec.transitionTask(
      t.taskId,
      TaskState.failed,
      Reason.interrupted,
      by,
      undefined,
      'onInterrupt: fail',
    );
    void exec.taskLog(t.taskId, t.attempts, 'system', 'not re-attempted: the task says onInterrupt: fail');
    exec.ctx.logger.warn(where, 'interrupted attempt not re-attempted: onInterrupt: fail');
    return;
  }
  const done = reattemptsSinceUserRetry(await exec.ctx.store.listTransitions(exec.runId, t.taskId));
  if (done >= cap) {
    const detail = `interrupted ${done + 1} times; re-attempt cap ${cap}`;
    await exec.transitionTask(t.taskId, TaskState.failed, Reason.interrupted, by, undefined, detail);
    void exec.taskLog(t.taskId, t.attempts, 'system', `not re-attempted: ${detail}`);
    // A task that keeps losing its engine is worth an operator's look (a crash loop).
    exec.ctx.logger.warn({ ...where, reattempts: done }, 'interrupted attempt not re-attempted: cap reached');
    return;
  }
  const detail = `re-attempt ${done + 1} of at most ${cap} after attempt ${t.attempts} was interrupted`;
  await exec.transitionTask(
    t.taskId,
    TaskState.queued,
    Reason.reattemptScheduled,
    by,
    { retryBase: t.retryBase + 1, notBefore: null },
    detail,
  );
  void exec.taskLog(t.taskId, t.attempts, 'system', detail);
  exec.ctx.logger.info({ ...where, reattempt: done + 1 }, 'interrupted attempt re-attempted');
}
