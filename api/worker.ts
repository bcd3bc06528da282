/**
 * The worker role: executes queued runs on this process's engine. Runs submitted through this
 * process's API are started at once (`wake`); runs queued by another process on the same data
 * directory (an `--role api` server) are found by a short poll. A run another live engine holds
 * (RunBusyError) is left to it: the engine's run lease decides, not this loop.
 */
import type { Logger } from 'pino';
import { RunState } from '../core/index.ts';
import type { Engine } from '../engine/index.ts';

export interface Worker {
  wake(runId: string): void;
  /**
   * Takes no new runs and resolves when every run this worker started has settled. Runs are
   * finished, not cancelled: a shutdown must not turn work in flight into cancelled runs.
   */
  close(): Promise<void>;
}

export function startWorker(engine: Engine, logger: Logger, options: { pollMs?: number } = {}): Worker {
  const running = new Map<string, Promise<void>>();
  let closed = false;

  const start = (runId: string) => {
    if (closed || running.has(runId)) return;
    const done = engine
      .execute(runId)
      .then((run) => logger.info({ runId, status: run.status }, 'run finished'))
      .catch((error: unknown) => {
        const code = (error as { code?: string }).code;
        if (code === 'run_busy') logger.debug({ runId }, 'run held by another engine');
        else logger.error({ runId, code, err: error }, 'run failed to execute');
      })
      .finally(() => running.delete(runId));
    running.set(runId, done);
  };

  let polling: Promise<void> | undefined;
  const poll = async () => {
    try {
      for (const run of await engine.store.listRuns({ status: [RunState.queued], limit: 100 })) start(run.id);
    } catch (error) {
      logger.error({ err: error }, 'worker poll failed');
    }
  };
  // One poll at a time: a slow store must not pile them up.
  const tick = () => void (polling ??= poll().finally(() => (polling = undefined)));
  tick();
  const timer = setInterval(tick, options.pollMs ?? 1000);
  timer.unref();

  return {
    wake: start,
    async close() {
      closed = true;
      clearInterval(timer);
      await polling;
      await Promise.allSettled([...running.values()]);
    },
  };
}
