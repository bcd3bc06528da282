/**
 * The timer that runs approval sweeps (approval-sweep.ts) in a long-lived process: at start, then
 * every `intervalMs`, one sweep at a time. Every process that serves a role runs one (the App's
 * process its own, which takes its runs back to execute them), so a deployment without a
 * `--role worker` replica still times its parked runs out; the sweep's named lease keeps it to
 * one replica at a time. Why not inside the worker's claim loop: a claim then waited for a sweep's
 * round trips, and only replicas with the worker role swept.
 */
import type { Logger } from 'pino';
import type { SweepResult } from './approval-sweep.ts';

export const DEFAULT_SWEEP_MS = 1000;

export interface ApprovalSweeper {
  /** Sweeps now (or joins the sweep under way); resolves when it is done. */
  sweep(): Promise<void>;
  /** Stops the timer and waits for a sweep under way. */
  close(): Promise<void>;
}

export function startApprovalSweeper(
  run: () => Promise<SweepResult>,
  options: {
    logger: Logger;
    intervalMs?: number;
    /** After a sweep that sent runs back to queued (a worker of this process looks for them). */
    onSettled?: (result: SweepResult) => void;
    onError?: (error: unknown) => void;
  },
): ApprovalSweeper {
  let closed = false;
  let sweeping: Promise<void> | undefined;
  const sweep = (): Promise<void> => {
    if (closed) return sweeping ?? Promise.resolve();
    sweeping ??= (async () => {
      try {
        const swept = await run();
        if (swept.settled.length + swept.escalated.length + swept.rejected.length > 0)
          options.logger.info(swept, 'approval tasks swept');
        if (swept.settled.length > 0) options.onSettled?.(swept);
      } catch (error) {
        options.logger.error({ err: error }, 'approval sweep failed');
        options.onError?.(error);
      }
    })().finally(() => (sweeping = undefined));
    return sweeping;
  };
  void sweep();
  const timer = setInterval(() => void sweep(), options.intervalMs ?? DEFAULT_SWEEP_MS);
  timer.unref();
  return {
    sweep,
    async close() {
      closed = true;
      clearInterval(timer);
      await sweeping;
    },
  };
}
