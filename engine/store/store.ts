/**
 * The Store port: everything the engine persists. Implementations (embedded SQLite now,
 * PostgreSQL later) must make every method atomic, and must refuse (throw) rather than
 * silently lose a write. The engine stores each transition BEFORE acting on it.
 */
import type { LogLine, Plan, Reason, RunSource, RunState, RunTrust, TaskState } from '../../core/index.ts';

export interface RunRecord {
  id: string;
  workflow: string;
  namespace: string;
  planDigest: string;
  plan: Plan;
  params: Record<string, unknown>;
  trigger: string;
  actor: string;
  priority: number;
  status: RunState;
  reason: Reason;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  approvalDigest: string | null;
  /** The repository at the exact commit the tasks' workspaces hold; null: empty workspaces. */
  source: RunSource | null;
  /** Whether the run's code is trusted (a fork's pull request is not); runners decide the network by it. */
  trust: RunTrust;
  /** Who asked to cancel the run (any process may ask; the executing engine acts on it). */
  cancelRequestedBy: string | null;
}

export interface TaskRecord {
  runId: string;
  taskId: string;
  /** Position in the plan's topological order. */
  position: number;
  state: TaskState;
  reason: Reason;
  /** Number of attempts started so far. */
  attempts: number;
  /** Attempts made before the latest user retry (retry limits count from here). */
  retryBase: number;
  /** Start of the first attempt (for retry maxDuration), ms since epoch. */
  firstStartedAt: number | null;
  /** A retry must not start before this time. */
  notBefore: number | null;
  cacheKey: string | null;
  updatedAt: number;
}

export interface TransitionRecord {
  runId: string;
  /** Null for a run transition. */
  taskId: string | null;
  from: string | null;
  to: string;
  reason: Reason;
  by: string;
  time: number;
  detail: string | null;
}

export interface AttemptStart {
  id: string;
  runId: string;
  taskId: string;
  attempt: number;
  startedAt: number;
  /** Resolved inputs (with secrets already redacted). */
  inputs: Record<string, unknown>;
  workDir: string;
  artifactsDir: string;
  cacheKey: string | null;
  /** Lease owner (engine instance) and its time to live. */
  owner: string;
  leaseMs: number;
}

export type AttemptStatus = 'running' | 'finished';

export interface AttemptFinish {
  /** succeeded, failed, timed_out, cancelled, runner_error, cached, interrupted */
  outcome: string;
  exitCode: number | null;
  signal: string | null;
  retryable: boolean;
  reason: string | null;
  message: string | null;
  finishedAt: number;
  cacheHit: boolean;
  policyDecisionIds: string[];
  /** Outputs (already redacted) stored with the attempt, in the same transaction. */
  outputs: Record<string, string>;
}

export interface AttemptRecord extends Omit<AttemptStart, 'owner' | 'leaseMs'> {
  status: AttemptStatus;
  outcome: string | null;
  exitCode: number | null;
  signal: string | null;
  retryable: boolean;
  reason: string | null;
  message: string | null;
  finishedAt: number | null;
  cacheHit: boolean;
  policyDecisionIds: string[];
  fencingToken: number;
  outputs: Record<string, string>;
}

export interface StoredLogLine extends LogLine {
  runId: string;
  /** Null for run-level lines. */
  taskId: string | null;
  attempt: number | null;
}

export interface CacheEntry {
  key: string;
  runId: string;
  taskId: string;
  attempt: number;
  outputs: Record<string, string>;
  artifactsDir: string;
  createdAt: number;
  expiresAt: number | null;
}

export interface ReceiptRecord {
  runId: string;
  /** Empty string and attempt 0 for the run receipt. */
  taskId: string;
  attempt: number;
  digest: string;
  bundle: unknown;
  createdAt: number;
}

export interface Lease {
  name: string;
  owner: string;
  token: number;
  expiresAt: number;
}

export interface RunFilter {
  status?: RunState[];
  workflow?: string;
  namespace?: string;
  /** createdAt bounds, ms since epoch. */
  since?: number;
  until?: number;
  limit?: number;
}

export interface NewRun extends Omit<
  RunRecord,
  'status' | 'reason' | 'startedAt' | 'finishedAt' | 'cancelRequestedBy' | 'source' | 'trust'
> {
  by: string;
  source?: RunSource | null;
  /** Default `untrusted`: a surface that does not say fails closed. */
  trust?: RunTrust;
}

export interface TaskPatch {
  attempts?: number;
  retryBase?: number;
  firstStartedAt?: number | null;
  notBefore?: number | null;
  cacheKey?: string | null;
}

/** A task transition written in the same transaction as an attempt's start or finish. */
export interface TaskTransitionWrite {
  from: TaskState;
  to: TaskState;
  reason: Reason;
  by: string;
  time: number;
  patch?: TaskPatch;
  detail?: string;
}

export interface Store {
  readonly location: string;
  createRun(run: NewRun): RunRecord;
  getRun(runId: string): RunRecord;
  listRuns(filter?: RunFilter): RunRecord[];
  /** Compare-and-set: throws StaleStateError when the run is not in `from`. */
  transitionRun(runId: string, from: RunState, to: RunState, reason: Reason, by: string, time: number): void;
  requestRunCancel(runId: string, by: string): void;
  /** Who asked to cancel the run, if anyone (cheap: polled by the executing engine). */
  runCancelRequestedBy(runId: string): string | null;
  clearRunCancel(runId: string): void;
  listTasks(runId: string): TaskRecord[];
  getTask(runId: string, taskId: string): TaskRecord;
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
  ): void;
  listTransitions(runId: string, taskId?: string | null): TransitionRecord[];
  /**
   * Records the attempt and takes its lease; returns the fencing token. With `transition`, the
   * task's transition (e.g. ready -> running) commits in the same transaction.
   */
  startAttempt(start: AttemptStart, transition?: TaskTransitionWrite): number;
  /** Extends the attempt's lease; throws LeaseLostError when the token is stale or expired. */
  heartbeat(attemptId: string, token: number, now: number, leaseMs: number): void;
  /**
   * Writes the result once; throws LeaseLostError when the token is stale or expired. With
   * `transition`, the task's following transition commits atomically with the result; `others`
   * are transitions of other tasks of the same run that this result decides (dependants becoming
   * ready), committed in the same transaction so one commit covers the whole event.
   */
  finishAttempt(
    attemptId: string,
    token: number,
    now: number,
    finish: AttemptFinish,
    transition?: TaskTransitionWrite,
    others?: readonly { taskId: string; write: TaskTransitionWrite }[],
  ): void;
  /** Recovery: takes over an abandoned attempt's lease (bumping the token) and closes it. */
  interruptAttempt(attemptId: string, now: number, message: string): void;
  listAttempts(runId: string, taskId?: string): AttemptRecord[];
  /** Outputs of the task's latest successful (or cached) attempt. */
  taskOutputs(runId: string, taskId: string): Record<string, string>;
  appendLogs(lines: StoredLogLine[]): void;
  listLogs(runId: string, taskId?: string | null, afterId?: number): (StoredLogLine & { id: number })[];
  getCacheEntry(key: string, now: number): CacheEntry | undefined;
  putCacheEntry(entry: CacheEntry): void;
  putReceipt(receipt: ReceiptRecord): void;
  listReceipts(runId: string): ReceiptRecord[];
  /** Takes a named lease if it is free, expired, or already ours; returns the new token. */
  acquireLease(name: string, owner: string, now: number, ttlMs: number, force?: boolean): Lease;
  getLease(name: string): Lease | undefined;
  releaseLease(name: string, owner: string): void;
  close(): void;
}
