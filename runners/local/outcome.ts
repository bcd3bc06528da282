import { AttemptOutcome, type AttemptResult } from '../../core/index.ts';
import { cancelledBy, deadlineExceeded, nonZeroExit } from '../shared/index.ts';

/**
 * Maps how a process ended to a runner-neutral outcome. Retryability comes from the class of
 * failure only: a non-zero exit or a signal is `retryable: true` because the runner cannot know
 * whether the task is flaky (the engine's retry policy decides whether to retry at all); our own
 * timeout is retryable; a cancel is not (someone asked it to stop); a spawn failure that retrying
 * cannot fix (missing or non-executable program, bad argument) is not, other spawn failures
 * (EAGAIN, ENOMEM, EMFILE: the host was busy) are.
 */
const PERMANENT_SPAWN_ERRORS: ReadonlySet<string> = new Set([
  'ENOENT',
  'EACCES',
  'ENOEXEC',
  'ENOTDIR',
  'EISDIR',
  'EINVAL',
  'ELOOP',
  'ENAMETOOLONG',
  'E2BIG',
  'unsupported_command',
  'runner_closed',
  'sandbox_unavailable', // the host must change (install bubblewrap), not the attempt
  'host_access_not_granted', // the operator's runners config must change, not the attempt
]);

export function isRetryableSpawnError(code: string): boolean {
  return !PERMANENT_SPAWN_ERRORS.has(code);
}

export type Ending =
  | { kind: 'exited'; exitCode: number | null; signal: string | null }
  | { kind: 'spawn_error'; code: string; message: string };

export interface EndContext {
  timedOut: boolean;
  timeoutMs?: number;
  cancelled: string | undefined;
  /**
   * The runner sent SIGKILL (a cancel or timeout past its grace). Then SIGKILL is what ended the
   * attempt even when the process reports exit 128+9: bubblewrap, killed in the same group as
   * its child, may reap the child and exit with its status before its own SIGKILL lands.
   */
  killed?: boolean;
}

type Base = Omit<AttemptResult, 'outputs' | 'startedAt' | 'finishedAt'>;

export function outcomeOf(end: Ending, ctx: EndContext): Base {
  if (end.kind === 'spawn_error')
    return {
      outcome: AttemptOutcome.runnerError,
      exitCode: null,
      retryable: isRetryableSpawnError(end.code),
      reason: end.code,
      message: end.message,
    };
  const signal = end.signal !== null ? { signal: end.signal } : ctx.killed ? { signal: 'SIGKILL' } : {};
  if (ctx.cancelled !== undefined)
    return { ...cancelledBy(ctx.cancelled), exitCode: end.exitCode, ...signal };
  if (ctx.timedOut)
    return { ...deadlineExceeded(`timed out after ${ctx.timeoutMs} ms`), exitCode: end.exitCode, ...signal };
  if (end.exitCode === 0) return { outcome: AttemptOutcome.succeeded, exitCode: 0, retryable: false };
  if (end.signal !== null)
    return {
      outcome: AttemptOutcome.failed,
      exitCode: null,
      signal: end.signal,
      retryable: true,
      reason: end.signal,
      message: `killed by ${end.signal}`,
    };
  return { ...nonZeroExit(end.exitCode), exitCode: end.exitCode };
}
