/**
 * Approvals of one approval task in the middle of a run (`uses: tasks/approval@1`): each
 * reviewer's approval is signed with the approval key (never the receipt key) as an in-toto
 * statement whose subject is the run's plan digest, under a predicate type of its own, so it can
 * pass neither for the App's pull-request attestation nor for an approval of a whole run, and it
 * binds the task: an approval of one task (or of another run with the same plan) never counts for
 * another.
 */
import type { SignedReceipt } from '../../core/index.ts';
import type { ProvenanceSigner } from '../signer.ts';
import { signPlanApproval, verifyPlanApproval } from './approval-attestation.ts';
import type { RunApprovalBinding } from './run-approval-attestation.ts';

export const TASK_APPROVAL_PREDICATE_TYPE = 'https://summit-maestro.dev/attestations/task-approval/v1';

export interface TaskApprovalBinding extends RunApprovalBinding {
  taskId: string;
}

/** One person's approval of one approval task of one run. */
export interface TaskApprovalPredicate extends TaskApprovalBinding {
  approver: string;
  approvedAt: string;
  /** `api` (the REST API or the console) or `github` (a pull-request review through the App). */
  via: string;
  /** Teams the surface found the approver in when it signed (the API's teams file, GitHub's teams). */
  teams: string[];
  /** A pull-request review it came from. */
  review?: { id: number; pullRequest: number; commit: string };
}

export function signTaskApproval(
  predicate: TaskApprovalPredicate,
  signer: ProvenanceSigner,
): Promise<SignedReceipt> {
  return signPlanApproval(TASK_APPROVAL_PREDICATE_TYPE, predicate.workflow, predicate, signer);
}

const BOUND = ['runId', 'namespace', 'workflow', 'sourceSha', 'sourceRepo', 'taskId', 'approver'] as const;

/**
 * Verifies one stored task approval for the run and task it is counted for: the signature under
 * the approval key, the predicate type, the plan digest (the subject) and every field of the
 * binding plus the approver the row names. Returns why it does not hold, or the signed predicate.
 */
export function checkTaskApproval(
  bundle: unknown,
  publicKeyPem: string,
  expect: TaskApprovalBinding & { approver: string },
): { refused: string } | { predicate: TaskApprovalPredicate } {
  const verified = verifyPlanApproval<TaskApprovalPredicate>(
    bundle,
    publicKeyPem,
    TASK_APPROVAL_PREDICATE_TYPE,
    expect.planDigest,
  );
  if ('refused' in verified) return verified;
  const p = verified.predicate;
  for (const field of BOUND)
    if ((p[field] ?? null) !== expect[field])
      return {
        refused: `the approval is bound to ${field} ${JSON.stringify(p[field] ?? null)}, not ${JSON.stringify(expect[field])}`,
      };
  if (typeof p.approvedAt !== 'string') return { refused: 'the approval has no time' };
  if (!Array.isArray(p.teams)) return { refused: 'the approval names no teams list' };
  return { predicate: p as TaskApprovalPredicate };
}
