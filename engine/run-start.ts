/**
 * The first and last events of an execution. First: a new (or user-retried) run moves to
 * running; a run another engine was executing is recovered (interrupted attempts closed, missing
 * receipts signed); says when the run's timeout counts from. Last: the run's final state and its
 * receipt.
 */
import {
  Reason,
  RunState,
  TaskState,
  isPolicyOff,
  isSuccessfulTaskState,
  isTerminalRunState,
} from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import { attestRunEnd } from './attest.ts';
import type { TaskRecord } from './store/store.ts';
import { attestMissingReceipts } from './run-attempt.ts';
import { recoverInterrupted, type Reattached } from './recover-run.ts';

export interface StartingRun extends AttemptHost {
  transitionRun(to: RunState, reason: Reason, by: string): Promise<void>;
  holdStart(by: string): void;
}

/** Runs inside the run's serial queue; returns the time the run's timeout counts from. */
export async function beginRun(exec: StartingRun, reattached: readonly Reattached[]): Promise<number> {
  const { store, clock } = exec.ctx;
  const by = `engine:${exec.ctx.owner}`;
  // The run timeout counts from this execution's start for a new or user-retried run, and from
  // the interrupted execution's start when resuming after a crash.
  let timeoutFrom = clock.now();
  if (exec.run.status === RunState.queued) {
    // Stored with the first attempt's start (or the run's next transition): run-writer.ts.
    exec.holdStart(by);
    const policy = exec.run.plan.policy ?? {};
    void exec.runLog(
      'system',
      `policy context: purpose=${policy.purpose ?? '-'} authority=${policy.authority ?? '-'} license=${policy.license ?? '-'}`,
    );
  } else {
    // Only a resumed run reads its history: a queued one (new or user-retried) starts now.
    const lastStart = (await store.listTransitions(exec.runId, null))
      .filter((t) => t.to === RunState.running)
      .at(-1)?.time;
    timeoutFrom = lastStart ?? timeoutFrom;
    void exec.runLog('system', `resumed by ${by}`);
    await recoverInterrupted(exec, by, reattached);
    await attestMissingReceipts(exec);
  }
  if (isPolicyOff(exec.ctx.policy))
    void exec.runLog(
      'system',
      `policy off (${exec.ctx.policy.source}): tasks run without a policy decision; receipts say so`,
    );
  return timeoutFrom;
}

/** Runs inside the run's queue once no task is open, running or being signed. */
export async function closeRun(
  exec: StartingRun,
  stop: { by: string; reason: 'cancel_requested' | 'run_timeout' } | undefined,
  tasks: readonly TaskRecord[],
): Promise<void> {
  const by = stop?.by ?? `engine:${exec.ctx.owner}`;
  if (!isTerminalRunState(exec.run.status)) {
    if (stop?.reason === 'run_timeout') await exec.transitionRun(RunState.timedOut, Reason.runTimeout, by);
    else if (stop) await exec.transitionRun(RunState.cancelled, Reason.cancelRequested, by);
    else if (tasks.every((t) => isSuccessfulTaskState(t.state) || t.state === TaskState.skipped))
      await exec.transitionRun(RunState.succeeded, Reason.allTasksSucceeded, by);
    else await exec.transitionRun(RunState.failed, Reason.taskFailed, by);
  }
  await attestRunEnd(exec);
}
