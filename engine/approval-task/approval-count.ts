/**
 * Counts the approvals of one approval task from what the store holds, trusting no row: each is
 * verified (the approval key's signature, a binding to exactly this run, plan digest, source,
 * task and approver), the run's author never counts, only allowed reviewers count, and each
 * reviewer counts once. Pure: the same rows give the same answer on every worker and surface.
 */
import { checkTaskApproval, type TaskApprovalBinding } from '../../provenance/index.ts';
import type { RunRecord, TaskApprovalRecord } from '../store/store.ts';
import { allowedNow, isAllowed, type ApprovalSpec } from './approval-spec.ts';

export interface CountedApproval {
  approver: string;
  digest: string;
  via: string;
  approvedAt: string;
}

export interface TaskApprovalCount {
  required: number;
  approvers: CountedApproval[];
  notCounted: { approver: string; reason: string }[];
  escalatedAt: number | undefined;
  satisfied: boolean;
}

export function bindingOf(run: RunRecord, taskId: string): TaskApprovalBinding {
  return {
    runId: run.id,
    namespace: run.namespace,
    workflow: run.workflow,
    planDigest: run.planDigest,
    sourceSha: run.source?.commit ?? null,
    sourceRepo: run.source?.repo ?? null,
    taskId,
  };
}

export function countTaskApprovals(
  run: RunRecord,
  taskId: string,
  spec: ApprovalSpec,
  rows: readonly TaskApprovalRecord[],
  publicKeyPem: string,
): TaskApprovalCount {
  const escalatedAt = rows.find((r) => r.kind === 'escalation' && r.taskId === taskId)?.createdAt;
  const allowed = allowedNow(spec, escalatedAt !== undefined);
  const binding = bindingOf(run, taskId);
  const seen = new Set<string>();
  const approvers: CountedApproval[] = [];
  const notCounted: TaskApprovalCount['notCounted'] = [];
  for (const row of rows) {
    if (row.kind !== 'approval' || row.taskId !== taskId) continue;
    const key = row.approver.toLowerCase();
    if (seen.has(key)) continue;
    const checked = checkTaskApproval(row.bundle, publicKeyPem, { ...binding, approver: row.approver });
    if ('refused' in checked) {
      notCounted.push({ approver: row.approver, reason: checked.refused });
      continue;
    }
    const p = checked.predicate;
    if (key === run.actor.toLowerCase())
      notCounted.push({ approver: row.approver, reason: 'the run’s author' });
    else if (!isAllowed(allowed, p.approver, p.teams))
      notCounted.push({ approver: row.approver, reason: 'not an allowed reviewer' });
    else {
      seen.add(key);
      approvers.push({ approver: p.approver, digest: row.digest, via: p.via, approvedAt: p.approvedAt });
    }
  }
  return {
    required: spec.approvals,
    approvers,
    notCounted,
    escalatedAt,
    satisfied: approvers.length >= spec.approvals,
  };
}
