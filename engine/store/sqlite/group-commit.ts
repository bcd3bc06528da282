/**
 * Group commit for the embedded store: the calls made in one turn of the event loop (the requests
 * it read, the runs in flight each taking their next step) share one `BEGIN IMMEDIATE … COMMIT`,
 * committed when the turn's I/O has been handled (`setImmediate`), instead of one transaction
 * each. On SQLite a transaction's cost is its locks and its commit (taking and dropping the file
 * locks, several `fcntl`, and writing every page it touched to the WAL, two `pwrite` each); the
 * calls of one turn touch the same few pages (the last leaf of `transitions`, of `logs`, of
 * `receipts`), so a batch writes each page once. At 100 runs/s (bench/scheduler) a batch held 5.4
 * calls; committing at the end of the microtask queue instead held 1.1 (the steps of different
 * runs come from different I/O callbacks). The cost: each awaited call waits for the end of the
 * turn, a fraction of a millisecond when the loop is idle.
 *
 * What holds exactly as before, and why:
 * - Durability: a call's promise settles only after the COMMIT of its batch. Nothing a caller is
 *   told (a `202`, a lease taken, a result stored) can be lost by a crash after it was told.
 * - Reads: a read made while a batch is open joins it and is answered after its COMMIT too, so no
 *   caller acts on what a crash could still undo. A read with no batch open runs at once, as before.
 * - All or nothing per call: each call runs in its own savepoint (and SqliteStore's transactions
 *   become nested savepoints); a call that fails is rolled back alone and its promise rejects,
 *   the others of its batch commit. If SQLite ends the whole transaction (a full disk, an I/O
 *   error), every call of the batch rejects: none of them is stored.
 * - Fencing: the batch holds SQLite's write lock from BEGIN IMMEDIATE to COMMIT, so no other
 *   process writes in between; each fenced call checks its lease token inside its savepoint,
 *   against the state the calls before it in the batch left, exactly as if they had committed.
 * - Another process on the same database (a second worker, `maestro tokens create`) waits for
 *   the write lock at most one turn of this loop (milliseconds; its busy timeout is 5 s).
 *
 * Writes nothing acts on (`later`: a receipt; asyncSqliteStore says which) do not open a batch
 * of their own: they wait, at most `laterMs`, to join the next batch a write that something acts
 * on opens (an attempt's start or end), and run first in it, in the order asked: a receipt had a
 * batch of its own in one case out of six. Their promises still settle only after that batch's
 * COMMIT, so a caller awaiting one (the run's close awaits every receipt) learns nothing a crash
 * could undo; a read, or a closing store, takes the waiting writes first, so nothing reads
 * around them.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';

/**
 * The batches open in this process. Two connections to one database in one process (two stores
 * on one data dir: the contract suite's two workers, a synchronous store beside the engine's) would
 * deadlock: the second's BEGIN IMMEDIATE waits for the first's COMMIT, which the blocked thread
 * never runs. So whoever begins a transaction commits the other connections' open batches first.
 */
const openBatches = new Set<GroupCommit>();

/** Commits every open batch of this process but `db`'s (before `db` begins a transaction). */
export function commitOtherBatches(db: DatabaseSync): void {
  for (const group of openBatches) if (!group.uses(db)) group.flush();
}

interface Pending {
  settle: (committed: boolean, failure?: unknown) => void;
}

/** How long a `later` write waits for a batch to join before it opens its own. */
export const laterMs = 25;
/** Past this many waiting writes a batch opens at once (a burst of log lines). */
const laterLimit = 256;

export class GroupCommit {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  #batch: Pending[] | undefined;
  /** `later` writes waiting for a batch, in the order asked: each runs its call in the batch. */
  #waiting: Array<(opened: unknown) => void> = [];
  #waitTimer: NodeJS.Timeout | undefined;

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /**
   * Runs `fn` now, inside the open batch (opening one for a write); settles after that batch's
   * COMMIT. A read (`write: false`) with no batch open and no write waiting runs and settles at
   * once. A `later` write with no batch open waits for one (at most `laterMs`).
   */
  run<T>(fn: () => T, write: boolean, later = false): Promise<T> {
    if (!this.#batch) {
      if (later && this.#waiting.length < laterLimit) return this.#wait(fn);
      if (!write && this.#waiting.length === 0) return settleNow(fn);
      const failed = this.#open();
      if (failed) return Promise.reject(failed as Error);
    }
    return this.#call(fn, this.#batch!);
  }

  /** Opens a batch, the waiting writes first in it; the error when BEGIN failed (they reject). */
  #open(): unknown {
    commitOtherBatches(this.#db);
    let failed: unknown;
    try {
      this.#exec('BEGIN IMMEDIATE');
      const batch: Pending[] = [];
      this.#batch = batch;
      openBatches.add(this);
      setImmediate(() => this.#commit(batch));
    } catch (error) {
      failed = error;
    }
    clearTimeout(this.#waitTimer);
    this.#waitTimer = undefined;
    for (const join of this.#waiting.splice(0)) join(failed);
    return failed;
  }

  #wait<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push((failed) => {
        if (failed !== undefined || !this.#batch)
          reject((failed ?? new Error('the batch this write waited for ended')) as Error);
        else this.#call(fn, this.#batch).then(resolve, reject);
      });
      this.#waitTimer ??= setTimeout(() => {
        this.#waitTimer = undefined;
        if (!this.#batch && this.#waiting.length > 0) this.#open();
      }, laterMs);
    });
  }

  /** Runs `fn` in its own savepoint of `batch`; settles after the batch's COMMIT. */
  #call<T>(fn: () => T, batch: Pending[]): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let value: T;
      this.#exec('SAVEPOINT call');
      try {
        value = fn();
        this.#exec('RELEASE call');
      } catch (error) {
        if (!this.#db.isTransaction) {
          // SQLite ended the transaction itself: nothing of this batch is stored.
          this.#batch = undefined;
          openBatches.delete(this);
          for (const pending of batch.splice(0)) pending.settle(false, error);
          reject(error as Error);
          return;
        }
        this.#exec('ROLLBACK TO call');
        this.#exec('RELEASE call');
        batch.push({ settle: (committed, failure) => reject((committed ? error : failure) as Error) });
        return;
      }
      batch.push({ settle: (committed, failure) => (committed ? resolve(value) : reject(failure as Error)) });
    });
  }

  uses(db: DatabaseSync): boolean {
    return this.#db === db;
  }

  /** Commits the open batch now (before the connection closes, or another begins). */
  flush(): void {
    if (this.#batch) this.#commit(this.#batch);
  }

  /** Stores the waiting `later` writes now, and commits (before the connection closes). */
  flushAll(): void {
    if (!this.#batch && this.#waiting.length > 0) this.#open();
    this.flush();
  }

  #commit(batch: Pending[]): void {
    if (this.#batch !== batch) return; // already committed (flush) or ended by SQLite
    this.#batch = undefined;
    openBatches.delete(this);
    try {
      this.#exec('COMMIT');
    } catch (error) {
      // A connection closed under the batch (a test's simulated crash) rolled it back already.
      if (this.#db.isOpen && this.#db.isTransaction) this.#db.exec('ROLLBACK');
      for (const pending of batch) pending.settle(false, error);
      return;
    }
    for (const pending of batch) pending.settle(true);
  }

  #exec(sql: string): void {
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    statement.run();
  }
}

/** The result of a synchronous call as a settled promise (a throw becomes a rejection). */
export function settleNow<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error as Error);
  }
}
