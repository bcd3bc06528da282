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
const tolerated: ReadonlySet<PropertyKey> = new Set(['heartbeat', 'renewLease', 'runCancelRequestedBy']);

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

/**
 * Renews the run lease at a third of its life (never two renewals at once) and looks for a
 * cancel asked by another process every second. A refused renewal is the run lost; a store
 * unreachable for a whole lease too (another worker may have claimed it meanwhile).
 */
export function keepRunLease(
  ctx: EngineContext,
  lease: Lease,
  watcher: LeaseWatcher,
): { stop(): Promise<void> } {
  const { store, clock } = ctx;
  const runId = lease.name.slice('run:'.length);
  let renewed = clock.now();
  let beating: Promise<void> | undefined;
  const beat = async (): Promise<void> => {
    try {
      if (clock.now() - renewed >= ctx.leaseMs / 3) {
        await store.renewLease(lease.name, lease.token, clock.now(), ctx.leaseMs);
        renewed = clock.now();
      }
      const by = await store.runCancelRequestedBy(runId);
      if (by) watcher.cancelRequested(by);
    } catch (error) {
      if (error instanceof LeaseLostError) return watcher.abandon('another worker took the run lease over');
      if (clock.now() - renewed >= ctx.leaseMs)
        return watcher.abandon(`the run lease could not be renewed for ${ctx.leaseMs} ms`);
      ctx.logger.error({ runId, err: describeError(error) }, 'run heartbeat failed');
    }
  };
  const timer = setInterval(
    () => {
      beating ??= beat().finally(() => (beating = undefined));
    },
    Math.min(1000, Math.max(50, Math.floor(ctx.leaseMs / 3))),
  );
  return {
    async stop() {
      clearInterval(timer);
      await beating;
    },
  };
}
