/**
 * Approvals of one run that did not come from GitHub (the REST API's `POST /v1/runs/{id}/approvals`):
 * each approver's approval, and the grant that releases the run once the rules are met. Both are
 * signed with the approval key (never the receipt key) as in-toto statements whose subject is the
 * plan digest, under predicate types of their own, so neither can pass for the App's pull-request
 * attestation or for the other.
 */
import type { SignedReceipt } from '../../core/index.ts';
import type { ProvenanceSigner } from '../signer.ts';
import { signPlanApproval, verifyPlanApproval } from './approval-attestation.ts';

export const RUN_APPROVAL_PREDICATE_TYPE = 'https://summit-maestro.dev/attestations/run-approval/v1';
export const RUN_APPROVAL_GRANT_PREDICATE_TYPE =
  'https://summit-maestro.dev/attestations/run-approval-grant/v1';

/** What binds an approval to its run: the run id, its plan, its source commit (when it has one). */
export interface RunApprovalBinding {
  runId: string;
  namespace: string;
  workflow: string;
  planDigest: string;
  /** The source commit the run's tasks get; null for a run without a source. */
  sourceSha: string | null;
  sourceRepo: string | null;
}

/** One person's approval of one run. */
export interface RunApprovalPredicate extends RunApprovalBinding {
  approver: string;
  approvedAt: string;
}

/** The approvals that met the run's rules, cited by digest; the run's receipts cite this. */
export interface RunApprovalGrantPredicate extends RunApprovalBinding {
  required: number;
  approvals: { approver: string; approvedAt: string; digest: string }[];
  grantedAt: string;
}

export function signRunApproval(
  predicate: RunApprovalPredicate,
  signer: ProvenanceSigner,
): Promise<SignedReceipt> {
  return signPlanApproval(RUN_APPROVAL_PREDICATE_TYPE, predicate.workflow, predicate, signer);
}

export function signRunApprovalGrant(
  predicate: RunApprovalGrantPredicate,
  signer: ProvenanceSigner,
): Promise<SignedReceipt> {
  return signPlanApproval(RUN_APPROVAL_GRANT_PREDICATE_TYPE, predicate.workflow, predicate, signer);
}

/**
 * Verifies one approval for the run it is counted for: the signature under the approval key, the
 * predicate type, and every field of the binding (run id, namespace, workflow, plan digest,
 * source) plus the approver it is said to be from. Returns the reason it does not hold, or the
 * signed predicate. An approval of another run, however alike, never counts here.
 */
export function checkRunApproval(
  bundle: unknown,
  publicKeyPem: string,
  expect: RunApprovalBinding & { approver: string },
): { refused: string } | { predicate: RunApprovalPredicate } {
  const verified = verifyPlanApproval<RunApprovalPredicate>(
    bundle,
    publicKeyPem,
    RUN_APPROVAL_PREDICATE_TYPE,
    expect.planDigest,
  );
  if ('refused' in verified) return verified;
  const p = verified.predicate;
  for (const field of ['runId', 'namespace', 'workflow', 'sourceSha', 'sourceRepo', 'approver'] as const)
    if ((p[field] ?? null) !== expect[field])
      return {
        refused: `the approval is bound to ${field} ${JSON.stringify(p[field] ?? null)}, not ${JSON.stringify(expect[field])}`,
      };
  if (typeof p.approvedAt !== 'string') return { refused: 'the approval has no time' };
  return { predicate: p as RunApprovalPredicate };
}
