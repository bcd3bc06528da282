/**
 * The Store port: everything the engine persists, on either store. PostgreSQL implements it
 * natively; the embedded SQLite store (synchronous, as node:sqlite is) through `asyncSqliteStore`.
 * Every method is atomic and refuses (rejects) rather than silently losing a write; the engine
 * stores each transition BEFORE acting on it. Replicas add `claimReadyTask` and
 * `startClaimedAttempt`, which a single engine does not need.
 */
import type { Reason, RunState, TaskState } from '../../core/index.ts';
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
  RunWrite,
  DurationQuery,
  NamespaceBudget,
  SpendQuery,
  UsageQuery,
  UsageRow,
} from './store.ts';

/** A task claimed by a worker: the task's `task:<run>/<task>` lease and its fencing token. */
export interface TaskClaim {
  runId: string;
  taskId: string;
  owner: string;
  token: number;
  expiresAt: number;
}

/** A run's lease as its executor holds it: every write of a fenced store view checks the token. */
export interface Fence {
  /** `run:<id>` */
  name: string;
  token: number;
}

export interface AsyncStore {
  readonly location: string;
  /**
   * A view of this store (same connection or pool) whose every write first checks, in its own
   * transaction, that `fence.token` is still the current token of the lease `fence.name`, and
   * rejects with LeaseLostError (nothing written) otherwise. Reads are not fenced. The check is
   * the token only, not the expiry: a token changes only when another owner takes the lease
   * over, so a holder that is late but not yet replaced may still write (and renew).
   */
  fenced(fence: Fence): AsyncStore;
  createRun(run: NewRun): Promise<RunRecord>;
  getRun(runId: string): Promise<RunRecord>;
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /**
   * Compare-and-set: rejects with StaleStateError when the run is not in `from`. `patch` is
   * written in the same transaction (an approval's attestation digest).
   */
  transitionRun(
    runId: string,
    from: RunState,
    to: RunState,
    reason: Reason,
    by: string,
    time: number,
    patch?: RunPatch,
  ): Promise<void>;
  requestRunCancel(runId: string, by: string): Promise<void>;
  /** Who asked to cancel the run, if anyone (cheap: polled by the executing engine). */
  runCancelRequestedBy(runId: string): Promise<string | null>;
  clearRunCancel(runId: string): Promise<void>;
  listTasks(runId: string): Promise<TaskRecord[]>;
  getTask(runId: string, taskId: string): Promise<TaskRecord>;
  /** Compare-and-set on the task state, recording the transition in the same transaction. */
  transitionTask(
    runId: string,
    taskId: string,
    from: TaskState,
    to: TaskState,
    reason: Reason,
    by: string,
    time: number,
    patch?: TaskPatch,
    detail?: string,
  ): Promise<void>;
  listTransitions(runId: string, taskId?: string | null): Promise<TransitionRecord[]>;
  /**
   * Every run's and task's transitions after `afterId` in store order, oldest first (the API's
   * event stream reads it, so a replica sees the changes another replica's worker made).
   */
  listTransitionsAfter(query: FeedQuery): Promise<FeedTransition[]>;
  /** The id of the latest transition in the store (0 when there is none): where a new feed starts. */
  lastTransitionId(): Promise<number>;
  /**
   * Records the attempt and takes its lease; returns the fencing token. With `transition`, the
   * task's transition (e.g. ready -> running) commits in the same transaction.
   */
  startAttempt(start: AttemptStart, transition?: TaskTransitionWrite): Promise<number>;
  /**
   * Several writes of one run's execution, in order, in one transaction (fenced once on a fenced
   * view): all or nothing. A run's start, its first ready tasks and the first attempt start go
   * in one (RunExecution defers the first two until the third). Each write is checked as its
   * single form is (compare-and-set: StaleStateError; an attempt lease held: LeaseLostError).
   * Resolves to the fencing tokens of the attempts started, in order.
   */
  commitRunWrites(runId: string, writes: readonly RunWrite[]): Promise<number[]>;
  /** Extends the attempt's lease; rejects with LeaseLostError when the token is stale or expired. */
  heartbeat(attemptId: string, token: number, now: number, leaseMs: number): Promise<void>;
  /**
   * Writes the result once; rejects with LeaseLostError when the token is stale or expired. With
   * `transition`, the task's following transition commits atomically with the result; `others`
   * are transitions of other tasks of the same run that this result decides (dependants becoming
   * ready), committed in the same transaction so one commit covers the whole event. `lines` are
   * the attempt's last log lines (the log pump's last batch), stored in that transaction too,
   * before the result: all or nothing with it (refused with it, so the caller stores them alone).
   */
  finishAttempt(
    attemptId: string,
    token: number,
    now: number,
    finish: AttemptFinish,
    transition?: TaskTransitionWrite,
    others?: readonly { taskId: string; write: TaskTransitionWrite }[],
    lines?: readonly StoredLogLine[],
  ): Promise<void>;
  /** Recovery: takes over an abandoned attempt's lease (bumping the token) and closes it. */
  interruptAttempt(attemptId: string, now: number, message: string): Promise<void>;
  listAttempts(runId: string, taskId?: string): Promise<AttemptRecord[]>;
  /** Outputs of the task's latest successful (or cached) attempt. */
  taskOutputs(runId: string, taskId: string): Promise<Record<string, string>>;
  appendLogs(lines: StoredLogLine[]): Promise<void>;
  listLogs(
    runId: string,
    taskId?: string | null,
    afterId?: number,
  ): Promise<(StoredLogLine & { id: number })[]>;
  getCacheEntry(key: string, now: number): Promise<CacheEntry | undefined>;
  putCacheEntry(entry: CacheEntry): Promise<void>;
  putReceipt(receipt: ReceiptRecord): Promise<void>;
  listReceipts(runId: string): Promise<ReceiptRecord[]>;
  /**
   * The run's receipts without their bundles, in `listReceipts` order: what the run receipt and a
   * resume need (a 10,000-task run's bundles parsed were ~80 MiB of heap at its close).
   */
  listReceiptDigests(runId: string): Promise<ReceiptDigest[]>;
  /**
   * Records a reviewer's approval (or an escalation) of an approval task; false when that
   * reviewer's row was already there (dedupe: one per run, task, kind and approver, compared
   * case-insensitively). Never fenced: an approval is a reviewer's act, not the executor's.
   */
  putTaskApproval(approval: TaskApprovalRecord): Promise<boolean>;
  /** The approval rows of a run (of one task with `taskId`), oldest first. */
  listTaskApprovals(runId: string, taskId?: string): Promise<TaskApprovalRecord[]>;
  /** Takes a named lease if it is free, expired, or already ours; returns the new token. */
  acquireLease(name: string, owner: string, now: number, ttlMs: number, force?: boolean): Promise<Lease>;
  getLease(name: string): Promise<Lease | undefined>;
  /**
   * Extends a held lease without changing its token; rejects with LeaseLostError when `token` is
   * no longer its current token (another owner took it over). Works on an expired lease nobody
   * took: being late is not being replaced.
   */
  renewLease(name: string, token: number, now: number, ttlMs: number): Promise<Lease>;
  /**
   * `renewLease` for many leases in one write (a worker renews every run it holds at once):
   * each is extended only while `token` is still its current token; returns the names renewed,
   * so a name missing from the answer is a lease lost (another owner took it over).
   */
  renewLeases(held: readonly Fence[], now: number, ttlMs: number): Promise<string[]>;
  /** `runCancelRequestedBy` for many runs in one read: who asked, for the runs someone asked to cancel. */
  runCancelRequests(runIds: readonly string[]): Promise<Map<string, string>>;
  /** Lets the lease go (expires it) if `owner` holds it, and with `token` only under that token. */
  releaseLease(name: string, owner: string, token?: number): Promise<void>;
  /** Sets a namespace's budget and quotas (replacing what it had). */
  putBudget(budget: NamespaceBudget): Promise<void>;
  getBudget(namespace: string): Promise<NamespaceBudget | undefined>;
  /** Every namespace's budget by name, or only those of `namespaces`. */
  listBudgets(namespaces?: readonly string[]): Promise<NamespaceBudget[]>;
  /** What the namespace's attempts started since `since` cost (price per hour × measured time). */
  namespaceSpend(query: SpendQuery): Promise<number>;
  /** The ms of a workflow's task's newest finished attempts (for its p90 estimate). */
  taskDurations(query: DurationQuery): Promise<number[]>;
  /** The usage report's rows: attempts started in the window, grouped. */
  usage(query: UsageQuery): Promise<UsageRow[]>;
  /**
   * Whether task `taskId` of run `runId` would get a slot of its namespace's tasks quota at `now`
   * (true when the namespace has none): a read, outside any transaction, so a task waiting on the
   * quota asks it before preparing another attempt. Only the start's own count, inside its
   * transaction, decides (`startAttempt` refuses with TaskQuotaError).
   */
  taskQuotaTurn(runId: string, taskId: string, now: number): Promise<boolean>;
  close(): Promise<void>;
  /**
   * Wake-ups for workers (PostgreSQL: LISTEN/NOTIFY; absent on SQLite, where workers poll):
   * `wake(runId)` is called when a run may need an executor (created `queued`, or moved back to
   * `queued` by a retry or an approval) once that write has committed, in whichever process on
   * the database made it; `listening()` each time the listener is (re)connected, since
   * notifications sent while it was not are lost. Best effort by design: a worker polls as well,
   * so a lost notification delays a run by one poll and never loses it. Resolves to `stop`.
   */
  listenForRuns?(wake: (runId: string) => void, listening: () => void): Promise<() => Promise<void>>;
  /**
   * Claims the most urgent ready task (run priority, then run age, then plan position) whose
   * `notBefore` has passed and whose claim lease is free or expired, taking that lease for
   * `leaseMs` with a fresh fencing token. Two concurrent callers never receive the same task while
   * its lease is live. Null when nothing is ready.
   */
  claimReadyTask(owner: string, now: number, leaseMs: number): Promise<TaskClaim | null>;
  /**
   * Claims the most urgent run that needs an executor (run priority, then age): `queued`, or
   * `running` with its `run:<id>` lease expired (its executor died or stopped renewing), taking
   * that lease for `leaseMs` under a fresh fencing token. Two concurrent callers never receive
   * the same run while its lease is live (PostgreSQL: `FOR UPDATE SKIP LOCKED` on the lease rows;
   * SQLite: one writer at a time). Null when no run needs an executor. The lease may carry the
   * run as read after the claim took it (`run`: the same read as a `getRun` right after, saving
   * a round trip on PostgreSQL) and, with it, the run's tasks (`tasks`: as `listTasks` right
   * after); without them the caller reads them.
   */
  claimRun(
    owner: string,
    now: number,
    leaseMs: number,
  ): Promise<(Lease & { run?: RunRecord; tasks?: TaskRecord[] }) | null>;
  /**
   * `startAttempt` for a claimed task, fenced by the claim: refused with LeaseLostError (nothing
   * written) unless `claim.token` is still the current, unexpired token of the task's claim
   * lease at `start.startedAt`. A worker that was paused past its claim cannot start the task a
   * newer claimer holds.
   */
  startClaimedAttempt(
    claim: TaskClaim,
    start: AttemptStart,
    transition?: TaskTransitionWrite,
  ): Promise<number>;
}

/** The methods every store has (the port but its location and the replicas' two). */
export type StoreMethod = Exclude<
  keyof AsyncStore,
  'location' | 'fenced' | 'claimReadyTask' | 'startClaimedAttempt' | 'listenForRuns'
>;

/**
 * The port as a synchronous implementation has it (each method returning its value, throwing
 * its refusal): what `SqliteStore` implements, so the adapter's promises are the port's exactly.
 */
export type SettledStore = {
  readonly [K in Exclude<keyof AsyncStore, 'fenced' | 'listenForRuns'>]: AsyncStore[K] extends (
    ...args: infer A
  ) => Promise<infer R>
    ? (...args: A) => R
    : AsyncStore[K];
} & { fenced(fence: Fence): SettledStore };

/** The name of a task's claim lease (shared by both stores so `getLease` finds it). */
export const taskLeaseName = (runId: string, taskId: string): string => `task:${runId}/${taskId}`;

/** The name of a run's executor lease; `claimRun` returns it, `runOfLease` reads the id back. */
export const runLeaseName = (runId: string): string => `run:${runId}`;
export const runOfLease = (name: string): string => name.slice('run:'.length);

/** The methods' names; `satisfies` and the check below keep the list complete as the port grows. */
export const storeMethods = [
  'createRun',
  'getRun',
  'listRuns',
  'transitionRun',
  'requestRunCancel',
  'runCancelRequestedBy',
  'clearRunCancel',
  'listTasks',
  'getTask',
  'transitionTask',
  'listTransitions',
  'listTransitionsAfter',
  'lastTransitionId',
  'startAttempt',
  'commitRunWrites',
  'heartbeat',
  'finishAttempt',
  'interruptAttempt',
  'listAttempts',
  'taskOutputs',
  'appendLogs',
  'listLogs',
  'getCacheEntry',
  'putCacheEntry',
  'putReceipt',
  'listReceipts',
  'listReceiptDigests',
  'acquireLease',
  'getLease',
  'renewLease',
  'renewLeases',
  'runCancelRequests',
  'releaseLease',
  'putBudget',
  'getBudget',
  'listBudgets',
  'namespaceSpend',
  'taskDurations',
  'usage',
  'taskQuotaTurn',
  'claimRun',
  'putTaskApproval',
  'listTaskApprovals',
  'close',
] as const satisfies readonly StoreMethod[];

// A compile-time check that no method of the port is missing from the list above.
type Missing = Exclude<StoreMethod, (typeof storeMethods)[number]>;
export const storeMethodsComplete: [Missing] extends [never] ? true : Missing = true;
