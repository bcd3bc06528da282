/**
 * Recovery when an engine resumes a run another engine was executing (crash, kill -9): attempts
 * still marked running are closed as interrupted (fencing out their old worker), their tasks are
 * retried under their retry policy or failed with reason `interrupted`; finished tasks stay.
 */
import { Reason, TaskState, type RunnerHandle } from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import type { EngineContext } from './context.ts';
import { nextRetry } from './retry.ts';
import type { AttemptRecord, RunRecord } from './store/store.ts';

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
      handle = await runner.reattach(
        { runId: run.id, taskId: attempt.taskId, attempt: attempt.attempt, attemptId: attempt.id },
        { redact: Object.values(ctx.secrets), outputs: plans.get(attempt.taskId)?.outputs ?? [] },
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
    await store.interruptAttempt(
      attempt.id,
      clock.now(),
      'the engine executing this attempt stopped (crash or kill)',
    );
    void exec.taskLog(
      attempt.taskId,
      attempt.attempt,
      'system',
      `attempt ${attempt.attempt} was interrupted`,
    );
  }
  for (const t of exec.allTasks()) {
    if (t.state === TaskState.ready)
      await exec.transitionTask(t.taskId, TaskState.queued, Reason.resumed, by);
    if (t.state !== TaskState.running || adopted.has(t.taskId)) continue;
    const delay = nextRetry(
      {
        policy: exec.planTask(t.taskId).retry,
        attempts: t.attempts - t.retryBase,
        retryable: true,
        firstStartedAt: t.firstStartedAt ?? clock.now(),
        now: clock.now(),
      },
      exec.ctx.random,
    );
    if (delay === undefined) await exec.transitionTask(t.taskId, TaskState.failed, Reason.interrupted, by);
    else
      await exec.transitionTask(t.taskId, TaskState.queued, Reason.interrupted, by, {
        notBefore: clock.now() + delay,
      });
  }
  // Retry waits that were pending when the engine stopped continue from their stored time.
  for (const t of exec.allTasks()) exec.afterRetryScheduled(t.taskId);
}
