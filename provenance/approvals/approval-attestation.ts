import { IN_TOTO_STATEMENT_V1, toDigestSet, type InTotoStatement } from '../statement.ts';
import { signStatement } from '../sign.ts';
import { verifyBundle } from '../verify.ts';
import type { ProvenanceSigner } from '../signer.ts';
import type { SignedReceipt } from '../../core/index.ts';

export const APPROVAL_PREDICATE_TYPE = 'https://summit-maestro.dev/attestations/approval/v1';

/**
 * What an approval attestation asserts: these people approved this exact plan, at this head
 * commit of this pull request against this base commit, until `expiresAt`.
 */
export interface ApprovalPredicate {
  repository: string;
  workflow: string;
  pullRequest: number;
  headSha: string;
  baseSha: string;
  planDigest: string;
  /** The reviews that count (a carried-over attestation cites the original ones). */
  approvers: { login: string; reviewId: number; commitId: string }[];
  required: number;
  issuedAt: string;
  expiresAt: string;
  /** The attestation this one replaces (same pull request, same plan, a new head). */
  supersedes?: string;
}

/**
 * Signs an approval of a plan (any surface's) as an in-toto statement whose single subject is
 * the plan digest; the predicate type says which surface's approval it is, so one kind is never
 * taken for another.
 */
export async function signPlanApproval<P extends { planDigest: string }>(
  predicateType: string,
  workflow: string,
  predicate: P,
  signer: ProvenanceSigner,
): Promise<SignedReceipt> {
  const statement: InTotoStatement<P> = {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: `plan:${workflow}`, digest: toDigestSet(predicate.planDigest) }],
    predicateType,
    predicate,
  };
  return signStatement(statement, signer);
}

/**
 * The predicate of an approval bundle that verifies under `publicKeyPem`, is of `predicateType`
 * and whose subject and predicate both name `planDigest`; else the reason it is not.
 */
export function verifyPlanApproval<P>(
  bundle: unknown,
  publicKeyPem: string,
  predicateType: string,
  planDigest: string,
): { predicate: Partial<P> } | { refused: string } {
  let statement: InTotoStatement | undefined;
  try {
    statement = verifyBundle(bundle, { publicKey: publicKeyPem }).statement;
  } catch (error) {
    return { refused: `the approval attestation does not verify: ${(error as Error).message}` };
  }
  if (!statement || statement.predicateType !== predicateType)
    return { refused: 'the bundle is not an approval attestation of this kind' };
  const predicate = statement.predicate as Partial<P> & { planDigest?: string };
  const subjectDigest = statement.subject[0]?.digest;
  const wanted = toDigestSet(planDigest);
  const [alg] = Object.keys(wanted);
  if (!alg || subjectDigest?.[alg] !== wanted[alg] || predicate.planDigest !== planDigest)
    return {
      refused: `the approval covers another plan (${predicate.planDigest ?? 'none'}), not ${planDigest}`,
    };
  return { predicate };
}

/** Signs the App's approval: its subject is the plan digest of the pull request's workflow. */
export function signApproval(predicate: ApprovalPredicate, signer: ProvenanceSigner): Promise<SignedReceipt> {
  return signPlanApproval(APPROVAL_PREDICATE_TYPE, predicate.workflow, predicate, signer);
}

/** Everything a dispatch expects an attestation to bind, and the time it is used. */
export interface ApprovalExpectation {
  repository: string;
  workflow: string;
  planDigest: string;
  headSha: string;
  pullRequest: number;
  baseSha: string;
  now: number;
}

/**
 * Verifies an approval bundle for a dispatch: the signature must verify under the app's key, the
 * predicate type must be ours, the subject and predicate must name exactly this repository,
 * workflow, plan digest, head SHA, pull request and base SHA, and it must not have expired.
 * Returns the reason it does not hold, or undefined when it does.
 */
export function checkApproval(
  bundle: unknown,
  publicKeyPem: string,
  expect: ApprovalExpectation,
): string | undefined {
  const verified = verifyPlanApproval<ApprovalPredicate>(
    bundle,
    publicKeyPem,
    APPROVAL_PREDICATE_TYPE,
    expect.planDigest,
  );
  if ('refused' in verified) return verified.refused;
  const predicate = verified.predicate;
  if (predicate.repository !== expect.repository || predicate.workflow !== expect.workflow)
    return `the approval is for ${predicate.repository}:${predicate.workflow}, not ${expect.repository}:${expect.workflow}`;
  if (predicate.pullRequest !== expect.pullRequest)
    return `the approval is for pull request #${predicate.pullRequest ?? '?'}, not #${expect.pullRequest}`;
  if (predicate.headSha !== expect.headSha)
    return `the approval is for commit ${predicate.headSha ?? 'none'}, not ${expect.headSha}`;
  if (predicate.baseSha !== expect.baseSha)
    return `the approval is against base ${predicate.baseSha ?? 'none'}, not ${expect.baseSha}`;
  const expiresAt = Date.parse(predicate.expiresAt ?? '');
  if (!Number.isFinite(expiresAt) || expiresAt <= expect.now)
    return `the approval expired at ${predicate.expiresAt ?? '(no expiry)'}`;
  if (!Array.isArray(predicate.approvers) || predicate.approvers.length < (predicate.required ?? 1))
    return 'the approval lists fewer approvers than it requires';
  return undefined;
}
