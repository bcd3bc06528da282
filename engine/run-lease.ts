/**
 * The run's executor lease (`run:<id>`, invariant 5 of engine/README.md): taken by `execute` (or
 * handed over by `claimRun`), renewed under its token while the run executes, and the fence of
 * every write the execution makes (`AsyncStore.fenced`). A refused write or renewal means another
 * worker holds the run now; this one gives the run up (RunExecution.abandon).
 */
import { hostname } from 'node:os';
import { describeError, isMaestroError } from '../core/index.ts';
import type { EngineContext } from './context.ts';
import { LeaseLostError, RunBusyError } from './errors.ts';
import { runLeaseName, type AsyncStore } from './store/async-store.ts';
import type { Lease } from './store/store.ts';

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lease whose owner is a dead process on this host (`host|pid|uuid`): kill -9 of its engine. */
export function ownerIsDeadHere(owner: string): boolean {
  const [host, pid] = owner.split('|');
  return host === hostname() && pid !== undefined && !isProcessAlive(Number(pid));
}

/** `execute`'s take: RunBusyError while another live engine holds the run. */
export async function takeRunLease(ctx: EngineContext, runId: string): Promise<Lease> {
  const { store, clock } = ctx;
  const name = runLeaseName(runId);
  const now = clock.now();
  const current = await store.getLease(name);
  let force = false;
  if (current && current.owner !== ctx.owner && current.expiresAt >= now) {
    // The same machine and a dead pid: the previous engine was killed; take over at once.
    if (ownerIsDeadHere(current.owner)) force = true;
    else throw new RunBusyError(runId, current.owner);
  }
  try {
    return await store.acquireLease(name, ctx.owner, now, ctx.leaseMs, force);
  } catch (error) {
    // Another engine took it between the look above and this take: the run is busy.
    if (!(error instanceof LeaseLostError)) throw error;
    const holder = await store.getLease(name);
    throw new RunBusyError(runId, holder?.owner ?? 'unknown');
  }
}

/** What the lease keeper and the fenced store report to the run's execution. */
export interface LeaseWatcher {
  /** The run's lease was taken over, or the store failed under a write: give the run up. */
  abandon(why: string): void;
  /** A cancel asked by another process (seen on a renewal). */
  cancelRequested(by: string): void;
}

/** Methods whose failures the keeper tolerates for a lease's length (it retries them itself). */
const tolerated: ReadonlySet<PropertyKey> = new Set([
  'heartbeat',
  'renewLease',
  'renewLeases',
  'runCancelRequestedBy',
  'runCancelRequests',
]);

/** The execution as its fenced store sees it: told to give the run up, asked whether it has. */
export interface FenceWatcher extends Pick<LeaseWatcher, 'abandon'> {
  /** Why the run was given up; undefined while the execution holds it. */
  readonly givenUp: string | undefined;
}

/**
 * The store as one execution uses it: writes fenced by the run lease's token; a refusal
 * (LeaseLostError for this lease) or a store failure that is not one of the engine's typed errors
 * (a lost connection mid-write: it may or may not have committed) makes the execution give the
 * run up, to be recovered by whoever claims it next from what was stored. Once given up, every
 * call is refused (LeaseLostError): the lease's token is still valid, so without that a write
 * that followed the failure (a preparation recording "cannot dispatch" once the server was back)
 * would store the store's fault as the task's. Found by the PostgreSQL restart drill.
 */
export function fencedStore(
  store: AsyncStore,
  lease: Lease,
  watcher: () => FenceWatcher | undefined,
): AsyncStore {
  const view = store.fenced({ name: lease.name, token: lease.token });
  return new Proxy(view, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function' || key === 'fenced') return value;
      return (...args: unknown[]) => {
        if (watcher()?.givenUp !== undefined) return Promise.reject(new LeaseLostError(lease.name));
        return (value as (...a: unknown[]) => Promise<unknown>)
          .apply(target, args)
          .catch((error: unknown) => {
            if (error instanceof LeaseLostError && error.lease === lease.name)
              watcher()?.abandon('another worker holds the run lease now');
            else if (!isMaestroError(error) && !tolerated.has(key))
              watcher()?.abandon(`the store failed: ${describeError(error)}`);
            throw error;
          });
      };
    },
  });
}

export interface RunKeeper {
  /** Keeps `lease` renewed (and watches for a cancel) until `stop()`, which awaits a beat in flight. */
  keep(lease: Lease, watcher: LeaseWatcher): { stop(): Promise<void> };
}

interface Kept {
  lease: Lease;
  runId: string;
  watcher: LeaseWatcher;
  renewed: number;
}

/**
 * One keeper per engine for every run it executes: a single timer renews, in one write, each run
 * lease that has reached a third of its life (under its own token: `renewLeases` answers which it
 * extended, and a run missing from the answer was taken over), and looks, in one read, for a cancel
 * asked by another process, every second (never two beats at once). A store unreachable for a
 * whole lease gives the run up too (another worker may have claimed it meanwhile). Per run, these
 * were two timers and two round trips a second: at 100 runs/s the renewals of runs waiting for a
 * slot were the database's busiest statements (bench/scheduler/RESULTS.md).
 */
export function createRunKeeper(ctx: EngineContext): RunKeeper {
  const { store, clock } = ctx;
  const kept = new Set<Kept>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let beating: Promise<void> | undefined;

  const renewDue = async (entries: Kept[]): Promise<void> => {
    const due = entries.filter((k) => clock.now() - k.renewed >= ctx.leaseMs / 3);
    if (due.length === 0) return;
    try {
      const now = clock.now();
      const renewed = new Set(
        await store.renewLeases(
          due.map((k) => ({ name: k.lease.name, token: k.lease.token })),
          now,
          ctx.leaseMs,
        ),
      );
      for (const k of due)
        if (renewed.has(k.lease.name)) k.renewed = now;
        else if (kept.has(k)) k.watcher.abandon('another worker took the run lease over');
    } catch (error) {
      for (const k of due)
        if (clock.now() - k.renewed >= ctx.leaseMs && kept.has(k))
          k.watcher.abandon(`the run lease could not be renewed for ${ctx.leaseMs} ms`);
      ctx.logger.error({ runs: due.length, err: describeError(error) }, 'run lease renewal failed');
    }
  };

  const beat = async (): Promise<void> => {
    const entries = [...kept];
    await renewDue(entries);
    const live = entries.filter((k) => kept.has(k));
    if (live.length === 0) return;
    try {
      const asked = await store.runCancelRequests(live.map((k) => k.runId));
      for (const k of live) {
        const by = asked.get(k.runId);
        if (by && kept.has(k)) k.watcher.cancelRequested(by);
      }
    } catch (error) {
      ctx.logger.error({ err: describeError(error) }, 'run cancel poll failed');
    }
  };

  const tick = () => {
    beating ??= beat().finally(() => (beating = undefined));
  };

  return {
    keep(lease, watcher) {
      const entry: Kept = { lease, runId: lease.name.slice('run:'.length), watcher, renewed: clock.now() };
      kept.add(entry);
      timer ??= setInterval(tick, Math.min(1000, Math.max(50, Math.floor(ctx.leaseMs / 3))));
      return {
        async stop() {
          kept.delete(entry);
          if (kept.size === 0 && timer) {
            clearInterval(timer);
            timer = undefined;
          }
          await beating;
        },
      };
    },
  };
}
