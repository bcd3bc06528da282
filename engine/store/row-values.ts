/**
 * The values both stores write, in their columns' order: the SQLite and PostgreSQL schemas share
 * their column names (as `sqlite/rows.ts` maps the rows both read back), so a record becomes its
 * statement's values here once, and each store only writes its own placeholders (`?` or `$n`).
 * Pure: no I/O.
 */
import type { AttemptFinish, AttemptStart, CacheEntry, NewRun, ReceiptRecord, TaskPatch } from './store.ts';

type Value = string | number | null;

/** The task columns a transition may patch, beside its state, reason and time. */
export const TASK_PATCH_COLUMNS: readonly (readonly [keyof TaskPatch, string])[] = [
  ['attempts', 'attempts'],
  ['retryBase', 'retry_base'],
  ['firstStartedAt', 'first_started_at'],
  ['notBefore', 'not_before'],
  ['cacheKey', 'cache_key'],
];

/** `runs`: id, workflow, namespace, plan_digest, plan, params, trigger, actor, priority, created_at, approval_digest, source, trust, trace_parent. */
export function newRunValues(run: NewRun): Value[] {
  return [
    run.id,
    run.workflow,
    run.namespace,
    run.planDigest,
    JSON.stringify(run.plan),
    JSON.stringify(run.params),
    run.trigger,
    run.actor,
    run.priority,
    run.createdAt,
    run.approvalDigest,
    run.source ? JSON.stringify(run.source) : null,
    // A run nobody vouched for is untrusted (fail closed).
    run.trust ?? 'untrusted',
    run.traceParent ?? null,
  ];
}

/** `run_labels`: the workflow's labels (metadata.labels) as [key, value] pairs, strings only. */
export function runLabels(run: NewRun): [string, string][] {
  const labels = (run.plan.workflow as { labels?: unknown }).labels;
  if (typeof labels !== 'object' || labels === null) return [];
  return Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string');
}

/** The status and reason a new run starts with (a gated run waits, in the same transaction). */
export function initialRunState(run: NewRun): [string, string] {
  return run.awaitApproval ? ['waiting_for_approval', 'approval_required'] : ['queued', 'created'];
}

/**
 * `attempts`: id, run_id, task_id, attempt, inputs, work_dir, artifacts_dir, cache_key, started_at,
 * fencing_token, placement, price_per_hour, estimated_cost, on_demand_per_hour.
 */
export function attemptStartValues(start: AttemptStart, token: number): Value[] {
  return [
    start.id,
    start.runId,
    start.taskId,
    start.attempt,
    JSON.stringify(start.inputs),
    start.workDir,
    start.artifactsDir,
    start.cacheKey,
    start.startedAt,
    token,
    start.placement ? JSON.stringify(start.placement) : null,
    start.pricePerHour ?? null,
    start.estimatedCost ?? null,
    start.onDemandPerHour ?? null,
  ];
}

/** The result recovery writes for an attempt whose worker is gone: retryable, nothing kept. */
export function interruptedFinish(now: number, message: string): AttemptFinish {
  return {
    outcome: 'interrupted',
    exitCode: null,
    signal: null,
    retryable: true,
    reason: 'interrupted',
    message,
    finishedAt: now,
    cacheHit: false,
    policyDecisionIds: [],
    outputs: {},
  };
}

/** `cache_entries`: key, run_id, task_id, attempt, outputs, artifacts_dir, created_at, expires_at. */
export function cacheEntryValues(e: CacheEntry): Value[] {
  return [
    e.key,
    e.runId,
    e.taskId,
    e.attempt,
    JSON.stringify(e.outputs),
    e.artifactsDir,
    e.createdAt,
    e.expiresAt,
  ];
}

/** `receipts`: run_id, task_id, attempt, digest, bundle, created_at. */
export function receiptValues(r: ReceiptRecord): Value[] {
  return [r.runId, r.taskId, r.attempt, r.digest, JSON.stringify(r.bundle), r.createdAt];
}
