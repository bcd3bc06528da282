/**
 * The closed sets of run and task states and of the reasons for a transition. Stored, rendered
 * into check runs and the console, and switched on exhaustively; adding one is a deliberate act.
 */
export const TaskState = {
  queued: 'queued',
  waitingForApproval: 'waiting_for_approval',
  blockedByPolicy: 'blocked_by_policy',
  ready: 'ready',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  skipped: 'skipped',
  cached: 'cached',
  timedOut: 'timed_out',
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

export const RunState = {
  queued: 'queued',
  waitingForApproval: 'waiting_for_approval',
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  timedOut: 'timed_out',
} as const;
export type RunState = (typeof RunState)[keyof typeof RunState];

const terminalTask: ReadonlySet<TaskState> = new Set([
  TaskState.succeeded,
  TaskState.failed,
  TaskState.cancelled,
  TaskState.skipped,
  TaskState.cached,
  TaskState.timedOut,
  TaskState.blockedByPolicy,
]);
const terminalRun: ReadonlySet<RunState> = new Set([
  RunState.succeeded,
  RunState.failed,
  RunState.cancelled,
  RunState.timedOut,
]);

export function isTerminalTaskState(state: TaskState): boolean {
  return terminalTask.has(state);
}
export function isTerminalRunState(state: RunState): boolean {
  return terminalRun.has(state);
}
/** States whose outputs dependants may consume. */
export function isSuccessfulTaskState(state: TaskState): boolean {
  return state === TaskState.succeeded || state === TaskState.cached;
}

/** Why a transition happened. */
export const Reason = {
  created: 'created',
  dependenciesMet: 'dependencies_met',
  conditionFalse: 'condition_false',
  dependencySkipped: 'dependency_skipped',
  dependencyFailed: 'dependency_failed',
  started: 'started',
  exitedZero: 'exited_zero',
  exitedNonZero: 'exited_non_zero',
  killedBySignal: 'killed_by_signal',
  timeout: 'timeout',
  runTimeout: 'run_timeout',
  runnerError: 'runner_error',
  retryScheduled: 'retry_scheduled',
  retriesExhausted: 'retries_exhausted',
  circuitOpen: 'circuit_open',
  cacheHit: 'cache_hit',
  cancelRequested: 'cancel_requested',
  policyDenied: 'policy_denied',
  policyUnavailable: 'policy_unavailable',
  approvalRequired: 'approval_required',
  approvalGranted: 'approval_granted',
  /** An approval task's timeout passed with `onTimeout: reject` (or after its escalation). */
  approvalTimedOut: 'approval_timed_out',
  budgetExceeded: 'budget_exceeded',
  interrupted: 'interrupted',
  /** A new attempt after one was lost to a crash of its engine or worker (not a policy retry). */
  reattemptScheduled: 'reattempt_scheduled',
  resumed: 'resumed',
  /**
   * A durable timer: the task is ready but may not start before its stored `notBefore` (a `wait`
   * task's time, a deferred task's cheapest window). Held by no process; a restart re-arms it.
   */
  waitingUntil: 'waiting_until',
  /**
   * The task is ready but its namespace runs as many attempts at once as its tasks quota allows
   * (`maestro budgets set --max-tasks`): it waits, in its turn, and starts when a slot frees.
   */
  quotaTasks: 'quota_tasks',
  retriedByUser: 'retried_by_user',
  allTasksSucceeded: 'all_tasks_succeeded',
  taskFailed: 'task_failed',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
