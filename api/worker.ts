/**
 * The worker role: claims runs that need an executor from the engine's store and executes them
 * (engine.claim). Any number of workers may share one store (PostgreSQL, or one SQLite data dir):
 * a claim takes the run's lease, so each run has one executor; a run whose executor died is
 * claimed again once its lease has expired, and resumed (re-attached or re-attempted). A worker
 * executes at most `maxRuns` runs at once, so the others get the rest.
 *
 * Wake-ups: at once when a run needs an executor, in any process on the same PostgreSQL (the
 * store's LISTEN/NOTIFY, `AsyncStore.listenForRuns`), when this process's API accepted a run
 * (`wake`), or when one of its runs ended (a slot is free); and a short poll (`pollMs`) as the
 * fallback that makes a lost notification (the listener reconnecting, a pooler that cannot
 * LISTEN: `notifications: false`) cost one poll, never the run. Each claim is logged with the
 * reason of the look that made it (`wake`), and counted (`claimsBy`).
 */
import type { Logger } from 'pino';
import { startApprovalSweeper, type Engine } from '../engine/index.ts';
import { DEFAULT_WORKER_RUNS } from '../runtime/index.ts';

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
  wake(runId?: string, reason?: WakeReason): void;
  /** Runs claimed so far, by the reason of the look that claimed them. */
  claimsBy(): Readonly<Record<WakeReason, number>>;
  /**
   * Takes no new runs and resolves when every run this worker started has settled. Runs are
   * finished, not cancelled: a shutdown must not turn work in flight into cancelled runs.
   */
  close(): Promise<void>;
}

/**
 * Why a worker looked for runs: `start`; `poll` (its timer); `api` (this process accepted a
 * run); `slot` (one of its runs ended); `notify` (a notification from the database); `listening`
 * (its listener (re)connected: notifications sent meanwhile were lost).
 */
export type WakeReason = 'start' | 'poll' | 'api' | 'slot' | 'notify' | 'listening' | 'sweep';

/**
 * One look for runs: the reason of its last wake (the one its claims are counted under), how
 * many runs were announced to it one by one, and whether anything else woke it.
 */
interface Look {
  wake: WakeReason;
  announced: number;
  openEnded: boolean;
}

/** `claimed`: a run was taken; `none`: nothing needed an executor; `error`: the claim failed. */
export type ClaimOutcome = 'claimed' | 'none' | 'error';

export interface WorkerOptions {
  /** Between two looks for runs to claim (default 250 ms). */
  pollMs?: number;
  /** Between two sweeps of approval tasks (timeouts, settling; default 1000 ms). */
  sweepMs?: number;
  /** Sweep approval tasks (default true; false when the process runs its own sweeper). */
  sweeps?: boolean;
  /** Runs this worker executes at once (default 32; --worker-runs, MAESTRO_WORKER_RUNS). */
  maxRuns?: number;
  /** Listen for the store's notifications where it has them (default true; MAESTRO_WAKEUPS). */
  notifications?: boolean;
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
        tick('slot');
      });
    running.set(runId, settled);
  };

  const claims: Record<WakeReason, number> = {
    start: 0,
    poll: 0,
    api: 0,
    slot: 0,
    notify: 0,
    listening: 0,
    sweep: 0,
  };
  /**
   * Approval tasks' timeouts and settling (engine/approval-task/approval-sweeper.ts), unless the
   * process sweeps for itself (`sweeps: false`: `maestro server` runs one sweeper for all its
   * roles). A run a sweep moved back to queued notifies (PostgreSQL) or is found by a look now.
   */
  const sweeper =
    options.sweeps === false
      ? undefined
      : startApprovalSweeper(() => engine.sweepApprovals(), {
          logger,
          ...(options.sweepMs === undefined ? {} : { intervalMs: options.sweepMs }),
          onSettled: () => tick('sweep'),
          onError: reportError,
        });
  /**
   * Claims runs while this worker has free slots and the store has runs that need one, in waves
   * that double while every claim of a wave found a run (1, 2, 4, … up to the free slots): one
   * claim at a time was one store round trip (on SQLite one turn of the group commit) per run, so
   * a backlog of a hundred runs took a hundred turns to start. A look made only for announced
   * runs (`api`, `notify`: one run each) claims that many in one wave and stops: the doubling
   * wave after it found nothing but cost two claims a run at 100 runs/s; a run announced later
   * brings its own look. Every other look (poll, slot, start, …) may find a backlog and doubles.
   * Concurrent claims never get the same run (SKIP LOCKED on PostgreSQL, one writer on SQLite).
   */
  const claimAll = async (look: Look) => {
    const { wake } = look;
    try {
      for (let wave = Math.max(1, look.announced); !closed && running.size < maxRuns; wave *= 2) {
        const size = Math.min(wave, maxRuns - running.size);
        const results = await Promise.allSettled(Array.from({ length: size }, () => timeClaim()));
        let found = 0;
        let failure: unknown;
        for (const result of results) {
          if (result.status === 'rejected') failure ??= result.reason;
          else if (result.value) {
            found++;
            claims[wake]++;
            logger.info({ runId: result.value.runId, wake }, 'run claimed');
            follow(result.value.runId, result.value.done);
          }
        }
        if (failure !== undefined) throw failure;
        if (found < size || !look.openEnded) return;
      }
    } catch (error) {
      logger.error({ err: error }, 'worker claim failed');
      reportError(error);
    }
  };

  let polling: Promise<void> | undefined;
  /** The wakes that came during a look, merged into the next one. */
  let next: Look | undefined;
  // One claim loop at a time: a slow store must not pile them up; wakes during one make another.
  const tick = (wake: WakeReason): void => {
    if (closed) return;
    const announced = wake === 'api' || wake === 'notify';
    next = {
      wake,
      announced: (next?.announced ?? 0) + (announced ? 1 : 0),
      openEnded: (next?.openEnded ?? false) || !announced,
    };
    startLook();
  };
  const startLook = (): void => {
    if (closed || polling || !next) return;
    const merged = next;
    next = undefined;
    polling = claimAll(merged).finally(() => {
      polling = undefined;
      startLook();
    });
  };
  tick('start');
  const timer = setInterval(() => tick('poll'), options.pollMs ?? 250);
  timer.unref();
  // Only where the store notifies: without notifications every announcement is a single one.
  const hints = options.notifications !== false && engine.store.listenForRuns ? pairedHints() : undefined;
  const hintTimer = setInterval(() => hints?.rotate(), 1000);
  hintTimer.unref();
  const unlisten = listenForRuns(
    engine,
    options.notifications !== false,
    (runId) => {
      if (hints?.first(runId) ?? true) tick('notify');
    },
    () => tick('listening'),
    logger,
  );

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
    wake: (runId, reason = 'api') => {
      if (runId === undefined || (hints?.first(runId) ?? true)) tick(reason);
    },
    claimsBy: () => ({ ...claims }),
    async close() {
      closed = true;
      clearInterval(timer);
      clearInterval(hintTimer);
      await (
        await unlisten
      )?.();
      await polling;
      await sweeper?.close();
      await Promise.allSettled([...running.values()]);
    },
  };
}

/**
 * A run this process accepted is announced twice on PostgreSQL: by its API (`wake` with the run's
 * id) and by the database's notification of the same commit. Both come after the commit and
 * either one makes the claim loop look (a wake during a look runs another), so the second is not
 * needed: it was one empty claim per run. `first(runId)` is true for the first of a pair and false
 * for the second. An id announced once only (a run accepted by another replica, a notification
 * lost while the listener reconnected) is forgotten after two `rotate` periods, so a later
 * announcement of the same run is at worst left to the poll. A forged notification can suppress
 * at most one look for a run the API has already looked for.
 */
function pairedHints(): { first(runId: string): boolean; rotate(): void } {
  let recent = new Set<string>();
  let older = new Set<string>();
  return {
    first(runId) {
      if (runId === '') return true;
      if (recent.delete(runId) || older.delete(runId)) return false;
      recent.add(runId);
      return true;
    },
    rotate() {
      older = recent;
      recent = new Set();
    },
  };
}

/** The store's wake-ups, where it has them and they are wanted; a failure leaves the poll alone. */
async function listenForRuns(
  engine: Engine,
  wanted: boolean,
  notified: (runId: string) => void,
  listening: () => void,
  logger: Logger,
): Promise<(() => Promise<void>) | undefined> {
  const store = engine.store;
  if (!wanted || !store.listenForRuns) return undefined;
  try {
    return await store.listenForRuns(notified, () => {
      logger.info('wake-ups: listening for runs');
      listening();
    });
  } catch (error) {
    logger.warn({ err: error }, 'no wake-ups from the database: polling only');
    return undefined;
  }
}
