/**
 * The attempt phase of an execution: a task the scheduler launched, or an attempt re-attached
 * from a previous engine, followed to its end (run-attempt.ts). A failure of the engine itself
 * (a bug, a store failure) is said on the run's log and fails the task while it still can; once
 * the run was given up nothing is written (the next executor recovers the attempt).
 */
import { Reason, TaskState, describeError } from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import type { Reattached } from './recover-run.ts';
import { continueAttempt, runAttempt } from './run-attempt.ts';

export interface LaunchHost extends AttemptHost {
  /** Why this execution gave the run up; undefined while it holds it. */
  readonly givenUp: string | undefined;
}

/** Runs a launched task's attempt; settles (never rejects) once it has been processed. */
export async function launchAttempt(exec: LaunchHost, taskId: string): Promise<void> {
  try {
    await runAttempt(exec, taskId);
  } catch (error) {
    // Given up (abandon): the next executor recovers the attempt; nothing is written here.
    if (exec.givenUp !== undefined) return;
    // A bug or a store failure: record it on the run's log, fail the task if we still can.
    exec.ctx.logger.error(
      { runId: exec.runId, taskId, err: exec.ctx.redactAll(describeError(error)) },
      'attempt failed',
    );
    void exec.runLog('system', `internal error in task ${taskId}: ${describeError(error)}`);
    await exec
      .serial(async () => {
        const state = exec.task(taskId).state;
        if (state === TaskState.ready || state === TaskState.running)
          await exec.transitionTask(
            taskId,
            TaskState.failed,
            Reason.runnerError,
            `engine:${exec.ctx.owner}`,
            undefined,
            describeError(error),
          );
      })
      .catch((failed: unknown) => void exec.runLog('system', `task ${taskId}: ${describeError(failed)}`));
  }
}

/** Follows an attempt re-attached from a previous engine, like a launched one. */
export async function adoptAttempt(exec: AttemptHost, r: Reattached): Promise<void> {
  try {
    await continueAttempt(exec, r.attempt, r.handle, r.token);
  } catch (error) {
    void exec.runLog('system', `internal error in task ${r.attempt.taskId}: ${describeError(error)}`);
  }
}
