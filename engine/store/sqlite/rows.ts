/** Row -> record mapping for the SQLite store (column names stay here, out of the engine). */
import type { Plan, Reason, RunnerPlacement, RunSource, RunState, TaskState } from '../../../core/index.ts';
import type {
  AttemptRecord,
  CacheEntry,
  ReceiptRecord,
  RunRecord,
  StoredLogLine,
  TaskRecord,
  TransitionRecord,
  FeedTransition,
} from '../store.ts';

export type Row = Record<string, unknown>;

const optNumber = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const optString = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function toRun(r: Row): RunRecord {
  return {
    id: String(r.id),
    workflow: String(r.workflow),
    namespace: String(r.namespace),
    planDigest: String(r.plan_digest),
    plan: JSON.parse(String(r.plan)) as Plan,
    params: JSON.parse(String(r.params)) as Record<string, unknown>,
    trigger: String(r.trigger),
    actor: String(r.actor),
    priority: Number(r.priority),
    status: String(r.status) as RunState,
    reason: String(r.reason) as Reason,
    createdAt: Number(r.created_at),
    startedAt: optNumber(r.started_at),
    finishedAt: optNumber(r.finished_at),
    approvalDigest: optString(r.approval_digest),
    source: r.source === null || r.source === undefined ? null : (JSON.parse(String(r.source)) as RunSource),
    trust: String(r.trust) === 'trusted' ? 'trusted' : 'untrusted',
    cancelRequestedBy: optString(r.cancel_requested_by),
    traceParent: optString(r.trace_parent),
  };
}

export function toTask(r: Row): TaskRecord {
  return {
    runId: String(r.run_id),
    taskId: String(r.task_id),
    position: Number(r.position),
    state: String(r.state) as TaskState,
    reason: String(r.reason) as Reason,
    attempts: Number(r.attempts),
    retryBase: Number(r.retry_base),
    firstStartedAt: optNumber(r.first_started_at),
    notBefore: optNumber(r.not_before),
    cacheKey: optString(r.cache_key),
    updatedAt: Number(r.updated_at),
  };
}

export function toAttempt(r: Row, outputs: Record<string, string>): AttemptRecord {
  return {
    id: String(r.id),
    runId: String(r.run_id),
    taskId: String(r.task_id),
    attempt: Number(r.attempt),
    status: String(r.status) as AttemptRecord['status'],
    outcome: optString(r.outcome),
    exitCode: optNumber(r.exit_code),
    signal: optString(r.signal),
    retryable: Number(r.retryable) === 1,
    reason: optString(r.reason),
    message: optString(r.message),
    inputs: JSON.parse(String(r.inputs)) as Record<string, unknown>,
    workDir: String(r.work_dir),
    artifactsDir: String(r.artifacts_dir),
    cacheKey: optString(r.cache_key),
    cacheHit: Number(r.cache_hit) === 1,
    policyDecisionIds: JSON.parse(String(r.policy_decisions)) as string[],
    startedAt: Number(r.started_at),
    finishedAt: optNumber(r.finished_at),
    fencingToken: Number(r.fencing_token),
    outputs,
    state: optString(r.state),
    ...(r.placement ? { placement: JSON.parse(String(r.placement)) as RunnerPlacement } : {}),
    ...(r.price_per_hour === null || r.price_per_hour === undefined
      ? {}
      : { pricePerHour: Number(r.price_per_hour) }),
    ...(r.estimated_cost === null || r.estimated_cost === undefined
      ? {}
      : { estimatedCost: Number(r.estimated_cost) }),
  };
}

export function toTransition(r: Row): TransitionRecord {
  return {
    runId: String(r.run_id),
    taskId: optString(r.task_id),
    from: optString(r.from_state),
    to: String(r.to_state),
    reason: String(r.reason) as Reason,
    by: String(r.by),
    time: Number(r.time),
    detail: optString(r.detail),
  };
}

export function toFeedTransition(r: Row): FeedTransition {
  return {
    ...toTransition(r),
    id: Number(r.id),
    namespace: String(r.namespace),
    workflow: String(r.workflow),
  };
}

export function toLogLine(r: Row): StoredLogLine & { id: number } {
  return {
    id: Number(r.id),
    runId: String(r.run_id),
    taskId: optString(r.task_id),
    attempt: optNumber(r.attempt),
    stream: String(r.stream) as StoredLogLine['stream'],
    time: Number(r.time),
    text: String(r.text),
  };
}

export function toCacheEntry(r: Row): CacheEntry {
  return {
    key: String(r.key),
    runId: String(r.run_id),
    taskId: String(r.task_id),
    attempt: Number(r.attempt),
    outputs: JSON.parse(String(r.outputs)) as Record<string, string>,
    artifactsDir: String(r.artifacts_dir),
    createdAt: Number(r.created_at),
    expiresAt: optNumber(r.expires_at),
  };
}

export function toReceipt(r: Row): ReceiptRecord {
  return {
    runId: String(r.run_id),
    taskId: String(r.task_id),
    attempt: Number(r.attempt),
    digest: String(r.digest),
    bundle: JSON.parse(String(r.bundle)) as unknown,
    createdAt: Number(r.created_at),
  };
}
