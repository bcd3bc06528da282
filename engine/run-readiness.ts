/**
 * The readiness pass for one queued task of an executing run: once every need is final it becomes
 * ready (and is queued for a slot), skipped (a need failed or was skipped, or its `when` is
 * false) or cancelled (the run or the task is being cancelled). Inside the run's serial queue.
 */
import { Reason, TaskState, describeError, isTerminalTaskState, type PlanTask } from '../core/index.ts';
import { evaluateCondition } from '../compiler/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import { scopeFor } from './dispatch.ts';
import { timerFor } from './durable-timer.ts';
import { approvalSpecOf, describeAllowed, isApprovalTask } from './approval-task/approval-spec.ts';

const failedStates: ReadonlySet<TaskState> = new Set([
  TaskState.failed,
  TaskState.timedOut,
  TaskState.cancelled,
  TaskState.blockedByPolicy,
]);

/** `cancelledBy`: who is cancelling this task (or the whole run), if anyone. */
export async function evaluateTask(
  exec: AttemptHost,
  taskId: string,
  by: string,
  cancelledBy: string | undefined,
  enqueue: () => void,
): Promise<void> {
  const t = exec.task(taskId);
  if (t.state !== TaskState.queued || t.notBefore !== null) return;
  if (cancelledBy !== undefined)
    return exec.transitionTask(taskId, TaskState.cancelled, Reason.cancelRequested, cancelledBy);
  const plan = exec.planTask(taskId);
  const needs = plan.needs.map((id) => exec.task(id).state);
  if (!needs.every(isTerminalTaskState)) return;
  if (needs.some((s) => failedStates.has(s)))
    return exec.transitionTask(taskId, TaskState.skipped, Reason.dependencyFailed, by);
  if (needs.some((s) => s === TaskState.skipped) && !plan.runIfSkipped)
    return exec.transitionTask(taskId, TaskState.skipped, Reason.dependencySkipped, by);
  if (plan.when !== undefined && !(await condition(exec, plan, by))) {
    // condition() already moved the task when evaluation itself failed.
    if (exec.task(taskId).state === TaskState.queued)
      await exec.transitionTask(taskId, TaskState.skipped, Reason.conditionFalse, by, undefined, plan.when);
    return;
  }
  const timer = await timerFor(exec, plan);
  if (timer) {
    // Ready, held by its stored time (durable-timer.ts): the timer enqueues it, not this pass.
    await exec.transitionTask(
      taskId,
      TaskState.ready,
      Reason.waitingUntil,
      by,
      { notBefore: timer.until },
      timer.detail,
    );
    return exec.armTimer(taskId);
  }
  // An approval task runs nothing: it waits (stored) and the run parks once idle (run-execution.ts).
  if (isApprovalTask(plan)) return waitForApproval(exec, plan, by);
  await exec.transitionTask(taskId, TaskState.ready, Reason.dependenciesMet, by);
  enqueue();
}

async function condition(exec: AttemptHost, plan: PlanTask, by: string): Promise<boolean> {
  try {
    const scope = scopeFor(plan, await exec.dispatchContext(plan.id), {});
    return evaluateCondition(plan.when!, scope);
  } catch (error) {
    void exec.taskLog(
      plan.id,
      null,
      'system',
      `when condition could not be evaluated: ${describeError(error)}`,
    );
    await exec.transitionTask(
      plan.id,
      TaskState.failed,
      Reason.runnerError,
      by,
      undefined,
      describeError(error),
    );
    return false;
  }
}

async function waitForApproval(exec: AttemptHost, plan: PlanTask, by: string): Promise<void> {
  await exec.transitionTask(plan.id, TaskState.waitingForApproval, Reason.approvalRequired, by);
  const spec = approvalSpecOf(plan);
  const timeout =
    spec.timeoutMs === undefined
      ? 'no timeout'
      : `timeout ${String(plan.with.timeout)}, then ${spec.onTimeout}`;
  void exec.taskLog(
    plan.id,
    null,
    'system',
    `waiting for ${spec.approvals} approval(s) from ${describeAllowed(spec)} (${timeout})`,
  );
}
