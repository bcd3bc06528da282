/**
 * The records the engine persists, as the store port (async-store.ts) reads and writes them on
 * either store (SQLite, PostgreSQL).
 */
import type {
  LogLine,
  Plan,
  Reason,
  RunnerPlacement,
  RunSource,
  RunState,
  RunTrust,
  TaskState,
} from '../../core/index.ts';

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
  /**
   * The W3C `traceparent` the run's trace continues (the API caller's, the webhook delivery's
   * span): whichever process executes the run starts its run span under it. Null: no trace.
   */
  traceParent: string | null;
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

/** A transition as the store-wide feed reads it: its global order and the run's namespace. */
export interface FeedTransition extends TransitionRecord {
  /** Increasing across the whole store (the feed's resume point). */
  id: number;
  namespace: string;
  workflow: string;
}

export interface FeedQuery {
  /** Only transitions after this id. */
  afterId: number;
  /** Only runs in these namespaces; absent: every namespace. */
  namespaces?: readonly string[];
  limit: number;
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
  /** Where its runner placed it (a Kubernetes cluster and namespace), for runners that choose. */
  placement?: RunnerPlacement;
  /**
   * Its price per hour when it started (engine/task-price.ts: the flavor placement chose, else its
   * runner and class in the engine's price table; zero for a wait, which holds no compute): its actual
   * cost is this times its measured duration, which the store can sum for any attempt, an
   * interrupted one too (docs/budgets.md). Absent on attempts stored before costs were.
   */
  pricePerHour?: number;
  /** What the budget guard estimated it would cost (the task's p90, else timeout, else one hour). */
  estimatedCost?: number;
  /**
   * For an attempt price-aware placement placed (ADR-051): on-demand's price per hour when its
   * task became ready (the placement's baseline); its savings are this minus `pricePerHour`, times
   * its measured duration, none when it ended `spot_lost`. Absent otherwise: it saved nothing.
   */
  onDemandPerHour?: number;
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
  /** The attempt's last checkpoint (redacted JSON text, at most 1 MiB); absent or null: none. */
  state?: string | null;
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
  /** The attempt's last checkpoint (redacted JSON text), null when it left none. */
  state: string | null;
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

/** A stored receipt without its bundle: which attempts are signed, and their digests. */
export type ReceiptDigest = Pick<ReceiptRecord, 'taskId' | 'attempt' | 'digest'>;

/**
 * One reviewer's signed approval of one approval task of one run (`uses: tasks/approval@1`), or
 * the record that its timeout escalated it (`kind: 'escalation'`, approver ''). Append-only; one
 * row per (run, task, kind, approver compared case-insensitively), so the same reviewer twice is
 * one row. What counts is decided by verifying `bundle`, never by the row alone.
 */
export interface TaskApprovalRecord {
  runId: string;
  taskId: string;
  kind: 'approval' | 'escalation';
  approver: string;
  /** sha256 of the signed statement ('' for an escalation). */
  digest: string;
  /** The Sigstore bundle (null for an escalation). */
  bundle: unknown;
  /** Where it came from: `api` (POST …/approvals, the console), `github` (a pull-request review), `engine`. */
  via: string;
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
  /** Only runs whose source is this exact commit (RunSource.commit: a git SHA, or a tree digest). */
  sha?: string;
  /** createdAt bounds, ms since epoch. */
  since?: number;
  until?: number;
  limit?: number;
  /** Only runs in these namespaces (a namespace-limited caller); empty: none. */
  namespaces?: readonly string[];
  /**
   * Only runs whose plan's workflow has every one of these labels (metadata.labels). Keys are
   * letters, digits and `._/-` (the API's pattern), so they are safe in a JSON path.
   */
  labels?: Readonly<Record<string, string>>;
  /**
   * Keyset paging, newest first by (createdAt, id): with it (even null) the order is
   * (createdAt, id) descending rather than insertion order, and only runs strictly before the
   * position are listed, so a page costs its own size, not the store's.
   */
  before?: { createdAt: number; id: string } | null;
}

export interface NewRun extends Omit<
  RunRecord,
  'status' | 'reason' | 'startedAt' | 'finishedAt' | 'cancelRequestedBy' | 'source' | 'trust' | 'traceParent'
> {
  by: string;
  traceParent?: string | null;
  source?: RunSource | null;
  /** Default `untrusted`: a surface that does not say fails closed. */
  trust?: RunTrust;
  /**
   * Created in `waiting_for_approval` (reason `approval_required`) instead of `queued`, in the same
   * transaction as the run itself, so no worker can ever see the gated run queued.
   */
  awaitApproval?: boolean;
}

/** What a run transition may record with it (in the same transaction). */
export interface RunPatch {
  /** The approval attestation the run now rests on (waiting_for_approval -> queued). */
  approvalDigest?: string;
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

/** A run's transition as a batch carries it (RunWrite). */
export interface RunTransitionWrite {
  from: RunState;
  to: RunState;
  reason: Reason;
  by: string;
  time: number;
  patch?: RunPatch;
}

/**
 * One write of a run's execution inside a batch (`AsyncStore.commitRunWrites`): the run's
 * transition, a task's, or an attempt's start (its row, its lease and its task's transition).
 */
export type RunWrite =
  | { kind: 'run'; write: RunTransitionWrite }
  | { kind: 'task'; taskId: string; write: TaskTransitionWrite }
  | { kind: 'attempt'; start: AttemptStart; transition?: TaskTransitionWrite };

/** A budget period: calendar, in UTC (the day, the ISO week from Monday, the month). */
export type BudgetPeriod = 'day' | 'week' | 'month';

/**
 * A namespace's budget and quotas (`maestro budgets set`, PUT /v1/budgets/{namespace}), in the
 * store so that every engine and replica checks the same numbers.
 */
export interface NamespaceBudget {
  namespace: string;
  /** The period's limit in `currency`; null: no money limit (quotas only). */
  limit: number | null;
  currency: string;
  period: BudgetPeriod;
  /** The share of the limit (0 < soft < 1) past which the guard warns; null: never. */
  soft: number | null;
  /** Runs of the namespace executing at once; null: no quota. */
  maxRuns: number | null;
  /** Attempts of the namespace running at once; null: no quota. */
  maxTasks: number | null;
  updatedAt: number;
  updatedBy: string;
}

/** What a namespace's attempts cost from `since` (started then or later) up to `now`. */
export interface SpendQuery {
  namespace: string;
  since: number;
  now: number;
}

/** One finished attempt's duration, for a task's history (estimates from its p90). */
export interface DurationQuery {
  workflow: string;
  taskId: string;
  /** The newest this many (default 100). */
  limit?: number;
}

/** The usage report's rows (`maestro usage report`, GET /v1/usage). */
export interface UsageQuery {
  since: number;
  until: number;
  /** Only these namespaces; absent: every namespace. */
  namespaces?: readonly string[];
  groupBy: 'namespace' | 'workflow' | 'task';
  now: number;
}

export interface UsageRow {
  namespace: string;
  workflow: string | null;
  taskId: string | null;
  runs: number;
  attempts: number;
  /** Hours of measured attempt time (running ones up to now). */
  taskHours: number;
  estimatedCost: number;
  actualCost: number;
  /** Price-aware placement's savings against on-demand (0 where nothing was placed). */
  savings: number;
}
