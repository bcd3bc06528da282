/**
 * The worker role: claims runs that need an executor from the engine's store and executes them
 * (engine.claim). Any number of workers may share one store (PostgreSQL, or one SQLite data dir):
 * a claim takes the run's lease, so each run has one executor; a run whose executor died is
 * claimed again once its lease has expired, and resumed (re-attached or re-attempted). A worker
 * executes at most `maxRuns` runs at once, so the others get the rest.
 *
 * Wake-ups: a short poll (`pollMs`), and at once when this process's API accepted a run (`wake`)
 * or one of its runs ended (a slot is free). Why not LISTEN/NOTIFY: a claim is one indexed
 * statement, a poll of every worker every quarter second costs the database nothing measurable,
 * and polling works alike on both stores and after a database restart (docs/server.md has the
 * claim latency measured).
 */
import type { Logger } from 'pino';
import type { Engine } from '../engine/index.ts';

/** `cicd.worker.count` by `cicd.worker.state`: each run slot of this worker is one CI/CD worker. */
export interface WorkerSlots {
  available: number;
  busy: number;
  offline: number;
}

export interface Worker {
  /** The slots free, taken, and (once closed) offline. */
  slots(): WorkerSlots;
  /** Calls `listener` with the error's stable code when a claim or an execution fails (not a run's own failure). */
  onError(listener: (errorType: string) => void): () => void;
  /**
   * Calls `listener` after each scheduling decision (one claim: the store asked for the next run
   * that needs an executor) with its latency and outcome.
   */
  onClaim(listener: (seconds: number, outcome: ClaimOutcome) => void): () => void;
  /** Looks for work now (a run was just submitted through this process). */
  wake(runId?: string): void;
  /**
   * Takes no new runs and resolves when every run this worker started has settled. Runs are
   * finished, not cancelled: a shutdown must not turn work in flight into cancelled runs.
   */
  close(): Promise<void>;
}

/** `claimed`: a run was taken; `none`: nothing needed an executor; `error`: the claim failed. */
export type ClaimOutcome = 'claimed' | 'none' | 'error';

export interface WorkerOptions {
  /** Between two looks for runs to claim (default 250 ms). */
  pollMs?: number;
  /** Runs this worker executes at once (default 8; MAESTRO_WORKER_RUNS). */
  maxRuns?: number;
}

/** Runs one worker executes at once when MAESTRO_WORKER_RUNS does not say. */
export const DEFAULT_WORKER_RUNS = 8;

/**
 * The server's attempt slots when neither `--concurrency` nor MAESTRO_CONCURRENCY says: at least
 * one per run this worker may hold, so every claimed run can start a task at once. The CPU count
 * (what `maestro run` uses) is the wrong bound here: a task mostly waits on its process, pod or
 * container, and a worker holding 8 runs with 2 slots kept 6 leased runs that nobody ran
 * (bench/scheduler/RESULTS.md).
 */
export function workerConcurrency(cpus: number, workerRuns: number | undefined): number {
  return Math.max(cpus, workerRuns ?? DEFAULT_WORKER_RUNS);
}

export function startWorker(engine: Engine, logger: Logger, options: WorkerOptions = {}): Worker {
  const running = new Map<string, Promise<void>>();
  const maxRuns = Math.max(1, options.maxRuns ?? DEFAULT_WORKER_RUNS);
  let closed = false;
  const errorListeners = new Set<(errorType: string) => void>();
  const claimListeners = new Set<(seconds: number, outcome: ClaimOutcome) => void>();
  const timeClaim = async () => {
    const start = performance.now();
    const report = (outcome: ClaimOutcome) => {
      for (const listener of claimListeners) listener((performance.now() - start) / 1000, outcome);
    };
    try {
      const claimed = await engine.claim();
      report(claimed ? 'claimed' : 'none');
      return claimed;
    } catch (error) {
      report('error');
      throw error;
    }
  };
  const reportError = (error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    const type = typeof code === 'string' && /^[A-Za-z0-9_.]{1,64}$/.test(code) ? code : '_OTHER';
    for (const listener of errorListeners) listener(type);
  };

  const follow = (runId: string, done: Promise<{ status: string }>) => {
    const settled = done
      .then((run) => logger.info({ runId, status: run.status }, 'run left this worker'))
      .catch((error: unknown) => {
        const code = (error as { code?: string }).code;
        if (code === 'run_busy') logger.debug({ runId }, 'run held by another engine');
        else {
          logger.error({ runId, code, err: error }, 'run failed to execute');
          reportError(error);
        }
      })
      .finally(() => {
        if (running.get(runId) === settled) running.delete(runId);
        tick();
      });
    running.set(runId, settled);
  };

  /** Claims runs while this worker has free slots and the store has runs that need one. */
  const claimAll = async () => {
    try {
      while (!closed && running.size < maxRuns) {
        const claimed = await timeClaim();
        if (!claimed) return;
        logger.info({ runId: claimed.runId }, 'run claimed');
        follow(claimed.runId, claimed.done);
      }
    } catch (error) {
      logger.error({ err: error }, 'worker claim failed');
      reportError(error);
    }
  };

  let polling: Promise<void> | undefined;
  let again = false;
  // One claim loop at a time: a slow store must not pile them up; a wake during one runs another.
  const tick = (): void => {
    if (closed) return;
    if (polling) {
      again = true;
      return;
    }
    polling = claimAll().finally(() => {
      polling = undefined;
      if (again) {
        again = false;
        tick();
      }
    });
  };
  tick();
  const timer = setInterval(tick, options.pollMs ?? 250);
  timer.unref();

  return {
    slots: () =>
      closed
        ? { available: 0, busy: running.size, offline: maxRuns - running.size }
        : { available: maxRuns - running.size, busy: running.size, offline: 0 },
    onError(listener) {
      errorListeners.add(listener);
      return () => errorListeners.delete(listener);
    },
    onClaim(listener) {
      claimListeners.add(listener);
      return () => claimListeners.delete(listener);
    },
    wake: () => tick(),
    async close() {
      closed = true;
      clearInterval(timer);
      await polling;
      await Promise.allSettled([...running.values()]);
    },
  };
}
