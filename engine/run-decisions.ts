/**
 * The decisions a run takes about a task from what it knows, without storing anything: what
 * follows a finished attempt (a retry after a wait, or the final state) and which dependants a
 * result makes ready. RunExecution stores what they decide with the result that decided it.
 */
import { Reason, TaskState, isSuccessfulTaskState, type PlanTask } from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import { nextRetry } from './retry.ts';
import type { TaskPatch, TaskRecord } from './store/store.ts';
import { mayHoldTimer } from './durable-timer.ts';
import { isApprovalTask } from './approval-task/approval-spec.ts';

export interface Decision {
  state: TaskState;
  reason: Reason;
  patch?: TaskPatch;
  detail?: string;
}

/**
 * What follows a finished (non-successful) attempt: a retry after a wait (queued with
 * notBefore), or the final state. Pure: the caller stores it with the attempt's result.
 */
export function decideAfterAttempt(
  exec: AttemptHost,
  taskId: string,
  retryable: boolean,
  final: { state: TaskState; reason: Reason; detail?: string },
): Decision {
  const { clock } = exec.ctx;
  const t = exec.task(taskId);
  // A whole-run stop or this task's cancel (taskCancelledBy covers both) ends retrying.
  const stopped = exec.taskCancelledBy(taskId) !== undefined;
  const delay = stopped
    ? undefined
    : nextRetry(
        {
          policy: exec.planTask(taskId).retry,
          attempts: t.attempts - t.retryBase,
          retryable,
          firstStartedAt: t.firstStartedAt ?? clock.now(),
          now: clock.now(),
        },
        exec.ctx.random,
      );
  if (delay !== undefined)
    return {
      state: TaskState.queued,
      reason: Reason.retryScheduled,
      patch: { notBefore: clock.now() + delay },
      detail: `wait ${delay}ms`,
    };
  const reason =
    retryable && t.attempts - t.retryBase > 1 && !stopped ? Reason.retriesExhausted : final.reason;
  return final.detail === undefined
    ? { state: final.state, reason }
    : { state: final.state, reason, detail: final.detail };
}

/**
 * The dependants `taskId` makes ready by reaching `to`, in the plain case only (every need
 * succeeded, no `when`, nothing cancelled or stopping): the same decision a readiness pass would
 * take, one event earlier. Anything else is left to the readiness pass.
 */
export function readyDependants(
  exec: AttemptHost,
  dependants: readonly string[],
  taskId: string,
  to: TaskState,
): string[] {
  if (exec.stopping || !isSuccessfulTaskState(to)) return [];
  const ready: string[] = [];
  for (const d of dependants) {
    const t: TaskRecord = exec.task(d);
    if (t.state !== TaskState.queued || t.notBefore !== null || exec.taskCancelledBy(d) !== undefined)
      continue;
    const plan: PlanTask = exec.planTask(d);
    // An approval task goes through the readiness pass, which makes it wait instead (run-readiness.ts).
    if (plan.when !== undefined || mayHoldTimer(plan) || isApprovalTask(plan)) continue;
    if (!plan.needs.every((n) => n === taskId || isSuccessfulTaskState(exec.task(n).state))) continue;
    ready.push(d);
  }
  return ready;
}
