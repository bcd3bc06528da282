/** The attempt's lease kept alive while its runner works. */
import { describeError, type RunnerHandle } from '../core/index.ts';
import type { AttemptHost, AttemptInfo } from './attempt-host.ts';
import { LeaseLostError } from './errors.ts';

/**
 * Renews the attempt's lease at a third of its life. A refused renewal (the lease was taken
 * over), or a store that stays unreachable for a whole lease, is the attempt lost: its runner is
 * stopped, and the result that follows is refused by the fenced write (nothing counts from it).
 */
export function keepLease(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  token: number,
  handle: RunnerHandle,
): { stop(): Promise<void> } {
  const { ctx } = exec;
  let renewed = ctx.clock.now();
  let beating: Promise<void> | undefined;
  let lost = false;
  const beat = async (): Promise<void> => {
    try {
      await ctx.store.heartbeat(info.attemptId, token, ctx.clock.now(), ctx.leaseMs);
      renewed = ctx.clock.now();
    } catch (error) {
      if (!(error instanceof LeaseLostError) && ctx.clock.now() - renewed < ctx.leaseMs) {
        ctx.logger.warn(
          { runId: exec.runId, attemptId: info.attemptId, err: describeError(error) },
          'heartbeat failed',
        );
        return;
      }
      lost = true;
      void exec.taskLog(
        taskId,
        info.attempt,
        'system',
        'this worker lost the attempt lease: stopping the task',
      );
      void handle.cancel('lease_lost', ctx.graceMs);
    }
  };
  const timer = setInterval(
    () => {
      if (beating || lost) return;
      beating = beat().finally(() => (beating = undefined));
    },
    Math.max(50, Math.floor(ctx.leaseMs / 3)),
  );
  return {
    async stop() {
      clearInterval(timer);
      // A renewal in flight settles before the result is written.
      await beating;
    },
  };
}
