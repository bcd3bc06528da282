/**
 * The endings every runner reports the same way, written once (the runner contract,
 * test/runner-contract and docs/runners.md). Each runner still decides which ending it saw, from
 * its own source (a process status, a container's wait and inspect, a Job's conditions).
 */
import { AttemptOutcome, type AttemptResult } from '../../core/index.ts';

type Ending = Required<Pick<AttemptResult, 'outcome' | 'retryable' | 'reason' | 'message'>>;

/**
 * A non-zero exit is failed and retryable: the runner cannot tell a flaky task from a broken
 * one, so the task's retry policy decides. `detail` is what the platform adds (a pod's reason).
 */
export function nonZeroExit(exitCode: number | null, detail?: string): Ending {
  return {
    outcome: AttemptOutcome.failed,
    retryable: true,
    reason: 'NonZeroExit',
    message: `exited with code ${exitCode}${detail ? ` (${detail})` : ''}`,
  };
}

/** The attempt's deadline passed: timed out, retryable (a slow moment may pass). */
export function deadlineExceeded(message: string): Ending {
  return { outcome: AttemptOutcome.timedOut, retryable: true, reason: 'DeadlineExceeded', message };
}

/** Someone asked the attempt to stop: cancelled, with their reason as its message, not retryable. */
export function cancelledBy(message: string): Ending {
  return { outcome: AttemptOutcome.cancelled, retryable: false, reason: 'Cancelled', message };
}

/** Over its memory limit: the same attempt would be killed again, so not retryable. */
export function oomKilled(): Ending {
  return {
    outcome: AttemptOutcome.failed,
    retryable: false,
    reason: 'OOMKilled',
    message: 'the container exceeded its memory limit',
  };
}
