/**
 * The embedded SQLite store behind the asynchronous port: each call runs synchronously (node:sqlite
 * is synchronous) and hands back a settled promise, so the same contract suite and the same
 * engine code drive both stores. Errors become rejections, never synchronous throws.
 */
import type { AsyncStore, Fence, StoreMethod, TaskClaim } from '../async-store.ts';
import { storeMethods } from '../async-store.ts';
import type { AttemptStart, TaskTransitionWrite } from '../store.ts';
import type { Durability } from './open-database.ts';
import { SqliteStore } from './sqlite-store.ts';

export interface AsyncSqliteStore extends AsyncStore {
  /** The synchronous store underneath (tests read the database through it). */
  readonly sync: SqliteStore;
}

/** The result of a synchronous call as a settled promise (a throw becomes a rejection). */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}

export function asyncSqliteStore(store: SqliteStore): AsyncSqliteStore {
  const methods = {} as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of storeMethods) {
    const method = store[name] as (...args: unknown[]) => unknown;
    methods[name] = (...args) => settle(() => method.apply(store, args));
  }
  return {
    ...(methods as unknown as Pick<AsyncStore, StoreMethod>),
    location: store.location,
    sync: store,
    fenced: (fence: Fence) => asyncSqliteStore(store.fenced(fence)),
    claimReadyTask: (owner: string, now: number, leaseMs: number): Promise<TaskClaim | null> =>
      settle(() => store.claimReadyTask(owner, now, leaseMs)),
    startClaimedAttempt: (claim: TaskClaim, start: AttemptStart, transition?: TaskTransitionWrite) =>
      settle(() => store.startClaimedAttempt(claim, start, transition)),
  };
}

export function openAsyncSqliteStore(dataDir: string, durability?: Durability): AsyncSqliteStore {
  return asyncSqliteStore(new SqliteStore(dataDir, durability));
}
