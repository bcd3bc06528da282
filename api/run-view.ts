/** A run as the API shows it: the engine's records turned into the API's bodies (pure). */
import type { ApiBody } from '../core/index.ts';
import { traceIdOfParent } from '../engine/index.ts';
import type { AttemptRecord, ReceiptRecord, RunRecord, TaskRecord } from '../engine/index.ts';
import type { StoredApproval } from './api-store.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function runSummary(run: RunRecord): ApiBody.RunSummary {
  return {
    id: run.id,
    workflow: run.workflow,
    namespace: run.namespace,
    planDigest: run.planDigest,
    status: run.status,
    reason: run.reason,
    priority: run.priority,
    actor: run.actor,
    trigger: run.trigger,
    commit: run.source?.commit ?? null,
    createdAt: new Date(run.createdAt).toISOString(),
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
  };
}

function attemptView(a: AttemptRecord): ApiBody.Attempt {
  return {
    attempt: a.attempt,
    status: a.status,
    outcome: a.outcome,
    exitCode: a.exitCode,
    reason: a.reason,
    startedAt: new Date(a.startedAt).toISOString(),
    finishedAt: iso(a.finishedAt),
    cacheHit: a.cacheHit,
    policyDecisionIds: a.policyDecisionIds,
    outputs: a.outputs,
    ...(a.placement ? { placement: a.placement } : {}),
  };
}

export function receiptDigest(r: ReceiptRecord): ApiBody.ReceiptDigest {
  return { task: r.taskId === '' ? null : r.taskId, attempt: r.attempt, digest: r.digest };
}

/** One signed approval of a run (POST /v1/runs/{id}/approvals), as the API shows it. */
export function approvalView(a: StoredApproval, run: RunRecord): ApiBody.Approval {
  return {
    approver: a.approver,
    approvedAt: new Date(a.approvedAt).toISOString(),
    digest: a.digest,
    planDigest: run.planDigest,
    sourceSha: run.source?.commit ?? null,
    bundle: a.bundle as Record<string, unknown>,
  };
}

export function runDetail(
  run: RunRecord,
  tasks: readonly TaskRecord[],
  attempts: readonly AttemptRecord[],
  receipts: readonly ReceiptRecord[],
  approvals: readonly StoredApproval[],
): ApiBody.RunDetail {
  return {
    run: runSummary(run),
    params: run.params,
    source: run.source,
    cancelRequestedBy: run.cancelRequestedBy,
    tasks: tasks.map((t) => ({
      id: t.taskId,
      state: t.state,
      reason: t.reason,
      cacheKey: t.cacheKey,
      attempts: attempts.filter((a) => a.taskId === t.taskId).map(attemptView),
    })),
    receipts: receipts.map(receiptDigest),
    approvals: approvals.map((a) => approvalView(a, run)),
    approvalDigest: run.approvalDigest,
    traceId: traceIdOfParent(run.traceParent) ?? null,
  };
}
