/**
 * The Store on PostgreSQL (the asynchronous port, async-store.ts). Every method is one
 * transaction on a pooled connection at READ COMMITTED; compare-and-set updates (`WHERE state =
 * $from`) refuse stale writers, and attempt results and heartbeats are written only while the
 * attempt's lease row, locked for the transaction, holds the caller's token (postgres-leases.ts).
 * Rows map through the SQLite store's mapping: the two schemas share their column names.
 */
import type pg from 'pg';
import type { PoolClient } from 'pg';
import type { Reason, RunState, TaskState } from '../../../core/index.ts';
import { LeaseLostError, StaleStateError } from '../../errors.ts';
import { taskLeaseName, type AsyncStore, type Fence, type TaskClaim } from '../async-store.ts';
import type {
  AttemptFinish,
  AttemptRecord,
  AttemptStart,
  CacheEntry,
  Lease,
  NewRun,
  ReceiptDigest,
  ReceiptRecord,
  TaskApprovalRecord,
  RunFilter,
  RunPatch,
  RunRecord,
  StoredLogLine,
  TaskPatch,
  TaskRecord,
  TaskTransitionWrite,
  TransitionRecord,
  FeedQuery,
  FeedTransition,
  RunTransitionWrite,
  RunWrite,
  DurationQuery,
  NamespaceBudget,
  SpendQuery,
  UsageQuery,
  UsageRow,
} from '../store.ts';
import * as pgBudgets from './postgres-budgets.ts';
import {
  acquire,
  checkFence,
  checkTokenRows,
  claimReadyTask,
  claimRun,
  heartbeatAttempt,
  release,
  renew,
  renewHeld,
  type RunClaim,
  lockTaskQuota,
  tokenCheckSql,
} from './postgres-leases.ts';
import { openPool, redactedUrl, type PoolOptions } from './open-pool.ts';
import {
  QUOTA_APPLIES,
  checkTaskQuota,
  closeAttempt,
  insertAttempt,
  insertCountedAttempt,
  transitionTask,
} from './postgres-writes.ts';
import * as records from './postgres-records.ts';
import * as reads from './postgres-reads.ts';
import { storeAttemptResult } from './postgres-finish.ts';
import * as approvals from './postgres-approvals.ts';
import { interruptedFinish } from '../row-values.ts';
import * as runs from './postgres-runs.ts';
import { listenForRuns } from './postgres-notify.ts';
import { retrying, transaction, type Db } from './reconnect.ts';

export async function openPostgresStore(url: string, options: PoolOptions = {}): Promise<PostgresStore> {
  return new PostgresStore(await openPool(url, options), redactedUrl(url));
}

export class PostgresStore implements AsyncStore {
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #db: Db;
  /** Set on a fenced view (`fenced`): every write checks this lease token first. */
  readonly #fence: Fence | undefined;

  constructor(pool: pg.Pool, location: string, fence?: Fence) {
    this.#pool = pool;
    this.#db = retrying(pool);
    this.location = location;
    this.#fence = fence;
  }

  /** AsyncStore.fenced: the same pool, every write checked against the lease's token. */
  fenced(fence: Fence): PostgresStore {
    return new PostgresStore(this.#pool, this.location, fence);
  }

  /**
   * One transaction; on a fenced view it first share-locks the fence's lease row and checks the
   * token, so a takeover (an UPDATE of that row) cannot commit until this write has.
   */
  #tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const fence = this.#fence;
    if (!fence) return transaction(this.#pool, fn);
    return transaction(
      this.#pool,
      (c, opened) => {
        checkTokenRows(opened, fence);
        return fn(c);
      },
      tokenCheckSql(fence),
    );
  }

  /** A single-statement write: in a fenced transaction when the view is fenced. */
  #write<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    return this.#fence ? this.#tx((c) => fn(c)) : fn(this.#db);
  }

  /** One statement (postgres-runs.ts): one round trip, atomic without BEGIN/COMMIT. */
  createRun(run: NewRun): Promise<RunRecord> {
    return this.#write((db) => runs.createRun(db, run));
  }

  getRun(runId: string): Promise<RunRecord> {
    return reads.getRun(this.#db, runId);
  }

  listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return runs.listRuns(this.#db, filter);
  }

  async transitionRun(
    runId: string,
    from: RunState,
    to: RunState,
    reason: Reason,
    by: string,
    time: number,
    patch?: RunPatch,
  ): Promise<void> {
    await this.#transitionRun(
      this.#db,
      runId,
      { from, to, reason, by, time, ...(patch ? { patch } : {}) },
      this.#fence,
    );
  }

  /** One statement: fenced in the statement itself, or by the transaction `c` already is. */
  async #transitionRun(c: Db, runId: string, t: RunTransitionWrite, fence?: Fence): Promise<void> {
    if (await runs.transitionRun(c, runId, t, fence)) return;
    await this.getRun(runId);
    throw new StaleStateError(`run ${runId} is no longer ${t.from}`);
  }

  requestRunCancel(runId: string, by: string): Promise<void> {
    return this.#write((db) => runs.requestCancel(db, runId, by));
  }

  runCancelRequestedBy(runId: string): Promise<string | null> {
    return reads.runCancelRequestedBy(this.#db, runId);
  }

  clearRunCancel(runId: string): Promise<void> {
    return this.#write((db) => runs.clearCancel(db, runId));
  }

  listTasks(runId: string): Promise<TaskRecord[]> {
    return reads.listTasks(this.#db, runId);
  }

  getTask(runId: string, taskId: string): Promise<TaskRecord> {
    return reads.getTask(this.#db, runId, taskId);
  }

  async transitionTask(
    runId: string,
    taskId: string,
    from: TaskState,
    to: TaskState,
    reason: Reason,
    by: string,
    time: number,
    patch: TaskPatch = {},
    detail?: string,
  ): Promise<void> {
    const write: TaskTransitionWrite = {
      from,
      to,
      reason,
      by,
      time,
      patch,
      ...(detail === undefined ? {} : { detail }),
    };
    // One statement, the fence riding in it: no transaction of its own.
    await transitionTask(this.#db, runId, taskId, write, this.#fence);
  }

  listTransitions(runId: string, taskId?: string | null): Promise<TransitionRecord[]> {
    return runs.listTransitions(this.#db, runId, taskId);
  }

  listTransitionsAfter(query: FeedQuery): Promise<FeedTransition[]> {
    return reads.listTransitionsAfter(this.#db, query);
  }

  lastTransitionId(): Promise<number> {
    return reads.lastTransitionId(this.#db);
  }

  startAttempt(start: AttemptStart, transition?: TaskTransitionWrite): Promise<number> {
    return this.#tx((c) => this.#startAttempt(c, start, transition));
  }

  /**
   * The attempt with its task's move in one statement, unless the run's namespace has a tasks
   * quota (the statement then writes nothing and says so): starts there take turns under the
   * namespace's lock, each counting after it (a snapshot that sees every start committed before;
   * under READ COMMITTED two starts counting at once both saw the last slot free).
   */
  async #startAttempt(c: PoolClient, start: AttemptStart, transition?: TaskTransitionWrite): Promise<number> {
    const started = await insertAttempt(c, start, transition);
    if (started !== QUOTA_APPLIES) return started;
    await lockTaskQuota(c, start.runId);
    await checkTaskQuota(c, start); // nothing moves when there is no slot
    if (transition) await transitionTask(c, start.runId, start.taskId, transition);
    return insertCountedAttempt(c, start);
  }

  /** In one transaction, fenced once (with BEGIN); each write one statement. */
  commitRunWrites(runId: string, writes: readonly RunWrite[]): Promise<number[]> {
    return this.#tx(async (c) => {
      const tokens: number[] = [];
      for (const w of writes)
        if (w.kind === 'run') await this.#transitionRun(c, runId, w.write);
        else if (w.kind === 'task') await transitionTask(c, runId, w.taskId, w.write);
        else tokens.push(await this.#startAttempt(c, w.start, w.transition));
      return tokens;
    });
  }

  async startClaimedAttempt(
    claim: TaskClaim,
    start: AttemptStart,
    transition?: TaskTransitionWrite,
  ): Promise<number> {
    return this.#tx(async (c) => {
      const name = taskLeaseName(start.runId, start.taskId);
      if (claim.runId !== start.runId || claim.taskId !== start.taskId) throw new LeaseLostError(name);
      await checkFence(c, name, claim.token, start.startedAt);
      return this.#startAttempt(c, start, transition);
    });
  }

  /** One statement, the fences riding in it (postgres-leases.ts heartbeatAttempt). */
  heartbeat(attemptId: string, token: number, now: number, leaseMs: number): Promise<void> {
    return heartbeatAttempt(this.#db, attemptId, token, now, now + leaseMs, this.#fence);
  }

  async finishAttempt(
    attemptId: string,
    token: number,
    now: number,
    finish: AttemptFinish,
    transition?: TaskTransitionWrite,
    others: readonly { taskId: string; write: TaskTransitionWrite }[] = [],
    lines: readonly StoredLogLine[] = [],
  ): Promise<void> {
    // One statement, the fences riding in it (postgres-finish.ts): one round trip, was seven.
    const write = { attemptId, token, now, finish, others, lines, ...(transition ? { transition } : {}) };
    await storeAttemptResult(this.#db, write, this.#fence);
  }

  async interruptAttempt(attemptId: string, now: number, message: string): Promise<void> {
    await this.#tx(async (c) => {
      // Bumping the token fences out the old worker even if it is somehow still alive.
      await acquire(c, `attempt:${attemptId}`, 'recovery', now, 0, true);
      await closeAttempt(c, attemptId, interruptedFinish(now, message));
    });
  }

  listAttempts(runId: string, taskId?: string): Promise<AttemptRecord[]> {
    return reads.listAttempts(this.#db, runId, taskId);
  }

  taskOutputs(runId: string, taskId: string): Promise<Record<string, string>> {
    return reads.taskOutputs(this.#db, runId, taskId);
  }

  appendLogs(lines: StoredLogLine[]): Promise<void> {
    return records.appendLogs(this.#db, lines, this.#fence);
  }

  listLogs(runId: string, taskId?: string | null, afterId = 0): Promise<(StoredLogLine & { id: number })[]> {
    return records.listLogs(this.#db, runId, taskId, afterId);
  }

  getCacheEntry(key: string, now: number): Promise<CacheEntry | undefined> {
    return records.getCacheEntry(this.#db, key, now);
  }

  putCacheEntry(entry: CacheEntry): Promise<void> {
    return this.#write((db) => records.putCacheEntry(db, entry));
  }

  putReceipt(receipt: ReceiptRecord): Promise<void> {
    return records.putReceipt(this.#db, receipt, this.#fence);
  }

  /** An unknown run is RunNotFoundError; a run with receipts needs no second read to say it exists. */
  async listReceiptDigests(runId: string): Promise<ReceiptDigest[]> {
    const listed = await records.listReceiptDigests(this.#db, runId);
    if (listed.length === 0) await this.getRun(runId);
    return listed;
  }

  /** An unknown run is RunNotFoundError; a run with receipts needs no second read to say it exists. */
  async listReceipts(runId: string): Promise<ReceiptRecord[]> {
    const listed = await records.listReceipts(this.#db, runId);
    if (listed.length === 0) await this.getRun(runId);
    return listed;
  }

  /** Never fenced: an approval is a reviewer's act, whoever executes the run. */
  async putTaskApproval(a: TaskApprovalRecord): Promise<boolean> {
    await this.getRun(a.runId);
    return approvals.putTaskApproval(this.#db, a);
  }

  listTaskApprovals(runId: string, taskId?: string): Promise<TaskApprovalRecord[]> {
    return approvals.listTaskApprovals(this.#db, runId, taskId);
  }

  async acquireLease(name: string, owner: string, now: number, ttlMs: number, force = false): Promise<Lease> {
    return this.#write((db) => acquire(db, name, owner, now, ttlMs, force));
  }

  getLease(name: string): Promise<Lease | undefined> {
    return reads.getLease(this.#db, name);
  }

  renewLease(name: string, token: number, now: number, ttlMs: number): Promise<Lease> {
    return this.#write((db) => renew(db, name, token, now, ttlMs));
  }

  async renewLeases(held: readonly Fence[], now: number, ttlMs: number): Promise<string[]> {
    return held.length === 0 ? [] : this.#write((db) => renewHeld(db, held, now + ttlMs));
  }

  runCancelRequests(runIds: readonly string[]): Promise<Map<string, string>> {
    return reads.runCancelRequests(this.#db, runIds);
  }

  putBudget(budget: NamespaceBudget): Promise<void> {
    return this.#write((db) => pgBudgets.putBudget(db, budget));
  }

  getBudget(namespace: string): Promise<NamespaceBudget | undefined> {
    return pgBudgets.getBudget(this.#db, namespace);
  }

  listBudgets(namespaces?: readonly string[]): Promise<NamespaceBudget[]> {
    return pgBudgets.listBudgets(this.#db, namespaces);
  }

  namespaceSpend(query: SpendQuery): Promise<number> {
    return pgBudgets.namespaceSpend(this.#db, query);
  }

  taskDurations(query: DurationQuery): Promise<number[]> {
    return pgBudgets.taskDurations(this.#db, query);
  }

  taskQuotaTurn(runId: string, taskId: string, now: number): Promise<boolean> {
    return pgBudgets.taskQuotaTurn(this.#db, runId, taskId, now);
  }

  usage(query: UsageQuery): Promise<UsageRow[]> {
    return pgBudgets.usage(this.#db, query);
  }

  releaseLease(name: string, owner: string, token?: number): Promise<void> {
    return this.#write((db) => release(db, name, owner, token));
  }

  /** One round trip, one implicit transaction (postgres-leases.ts claimRun). */
  claimRun(owner: string, now: number, leaseMs: number): Promise<RunClaim | null> {
    return claimRun(this.#db, owner, now, leaseMs);
  }

  async claimReadyTask(owner: string, now: number, leaseMs: number): Promise<TaskClaim | null> {
    return this.#tx((c) => claimReadyTask(c, owner, now, leaseMs));
  }

  /** LISTEN on a connection of its own (postgres-notify.ts); the pool's settings, its URL. */
  listenForRuns(wake: (runId: string) => void, listening: () => void): Promise<() => Promise<void>> {
    const { connectionString, types } = this.#pool.options;
    return listenForRuns({ connectionString, types } as pg.ClientConfig, wake, listening);
  }

  async close(): Promise<void> {
    if (!this.#pool.ended) await this.#pool.end();
  }
}
