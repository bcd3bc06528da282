/**
 * The embedded SQLite store behind the asynchronous port: each call runs synchronously (node:sqlite
 * is synchronous), and the writes of one turn share one transaction (group-commit.ts), each call's
 * promise settling after that COMMIT, so the same contract suite and the same engine code drive
 * both stores. Errors become rejections, never synchronous throws.
 */
import type { AsyncStore, Fence, StoreMethod, TaskClaim } from '../async-store.ts';
import { storeMethods } from '../async-store.ts';
import type { AttemptStart, TaskTransitionWrite } from '../store.ts';
import { GroupCommit } from './group-commit.ts';
import type { Durability } from './open-database.ts';
import { SqliteStore } from './sqlite-store.ts';

export interface AsyncSqliteStore extends AsyncStore {
  /** The synchronous store underneath (tests read the database through it). */
  readonly sync: SqliteStore;
  /**
   * Runs `fn` on the store's connection through its group commit, as a store call is (`write`: it
   * opens a batch; settles after its COMMIT): the decision log sharing the database goes through it.
   */
  batch<T>(fn: () => T, write: boolean): Promise<T>;
}

/**
 * The methods that only read: with no batch open they run at once, outside any transaction. A
 * method missing here is treated as a write (it opens a batch), which is never wrong, only slower.
 */
const reads: ReadonlySet<string> = new Set([
  'getRun',
  'listRuns',
  'runCancelRequestedBy',
  'listTasks',
  'getTask',
  'listTransitions',
  'listTransitionsAfter',
  'lastTransitionId',
  'listAttempts',
  'taskOutputs',
  'listLogs',
  'listReceipts',
  'listReceiptDigests',
  'getLease',
  'runCancelRequests',
  // Budgets, spend, history and usage: single SELECTs (budget-sql.ts), as are approval rows.
  'getBudget',
  'listBudgets',
  'namespaceSpend',
  'taskDurations',
  'usage',
  'taskQuotaTurn',
  'listTaskApprovals',
] satisfies StoreMethod[]);

/**
 * The writes nothing acts on, which wait to join the next batch (group-commit.ts, `later`): an
 * attempt's receipt, signed off the critical path, is only ever read back, and the run's close
 * (which awaits every receipt) still hears only after its COMMIT. Not log lines: an attempt's
 * result is stored only once its last lines are (run-attempt.ts, followHandle), so a waiting line
 * held every attempt's end by up to `laterMs` (dag-1000 took 18.9 s instead of 5 s).
 */
const later: ReadonlySet<string> = new Set(['putReceipt'] satisfies StoreMethod[]);

/**
 * Not the run's own receipt (task id ''): it attests the run's end and is written just after the
 * terminal state, which clients already see, so a wait for a batch would only widen the moment in
 * which a finished run has no run receipt yet (two tests that read it after the end failed).
 */
function waitsForBatch(name: string, args: unknown[]): boolean {
  if (!later.has(name)) return false;
  return !(name === 'putReceipt' && (args[0] as { taskId?: string } | undefined)?.taskId === '');
}

export function asyncSqliteStore(
  store: SqliteStore,
  group = new GroupCommit(store.connection),
): AsyncSqliteStore {
  const methods = {} as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of storeMethods) {
    const method = store[name] as (...args: unknown[]) => unknown;
    methods[name] = (...args) =>
      group.run(() => method.apply(store, args), !reads.has(name), waitsForBatch(name, args));
  }
  return {
    ...(methods as unknown as Pick<AsyncStore, StoreMethod>),
    close: () => {
      group.flushAll();
      return group.run(() => store.close(), false);
    },
    location: store.location,
    sync: store,
    batch: (fn, write) => group.run(fn, write),
    fenced: (fence: Fence) => asyncSqliteStore(store.fenced(fence), group),
    claimReadyTask: (owner: string, now: number, leaseMs: number): Promise<TaskClaim | null> =>
      group.run(() => store.claimReadyTask(owner, now, leaseMs), true),
    startClaimedAttempt: (claim: TaskClaim, start: AttemptStart, transition?: TaskTransitionWrite) =>
      group.run(() => store.startClaimedAttempt(claim, start, transition), true),
  };
}

export function openAsyncSqliteStore(dataDir: string, durability?: Durability): AsyncSqliteStore {
  return asyncSqliteStore(new SqliteStore(dataDir, durability));
}
