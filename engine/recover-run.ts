/**
 * Recovery when an engine resumes a run another engine was executing (crash, kill -9): attempts
 * still marked running are closed as interrupted (fencing out their old worker), their tasks are
 * retried under their retry policy or failed with reason `interrupted`; finished tasks stay.
 */
import { Reason, TaskState } from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import { nextRetry } from './retry.ts';

export function recoverInterrupted(exec: AttemptHost, by: string): void {
  const { store, clock } = exec.ctx;
  for (const attempt of store.listAttempts(exec.runId)) {
    if (attempt.status !== 'running') continue;
    store.interruptAttempt(
      attempt.id,
      clock.now(),
      'the engine executing this attempt stopped (crash or kill)',
    );
    exec.taskLog(attempt.taskId, attempt.attempt, 'system', `attempt ${attempt.attempt} was interrupted`);
  }
  for (const t of exec.allTasks()) {
    if (t.state === TaskState.ready) exec.transitionTask(t.taskId, TaskState.queued, Reason.resumed, by);
    if (t.state !== TaskState.running) continue;
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
    if (delay === undefined) exec.transitionTask(t.taskId, TaskState.failed, Reason.interrupted, by);
    else
      exec.transitionTask(t.taskId, TaskState.queued, Reason.interrupted, by, {
        notBefore: clock.now() + delay,
      });
  }
  // Retry waits that were pending when the engine stopped continue from their stored time.
  for (const t of exec.allTasks()) exec.afterRetryScheduled(t.taskId);
}
