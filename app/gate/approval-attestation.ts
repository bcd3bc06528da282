import {
  IN_TOTO_STATEMENT_V1,
  signStatement,
  toDigestSet,
  verifyBundle,
  type InTotoStatement,
  type ProvenanceSigner,
} from '../../provenance/index.ts';
import type { SignedReceipt } from '../../core/index.ts';

export const APPROVAL_PREDICATE_TYPE = 'https://summit-maestro.dev/attestations/approval/v1';

/** What an approval attestation asserts: these people approved this exact plan on this PR. */
export interface ApprovalPredicate {
  repository: string;
  workflow: string;
  pullRequest: number;
  headSha: string;
  planDigest: string;
  approvers: { login: string; reviewId: number; commitId: string }[];
  required: number;
  issuedAt: string;
}

/** Signs the approval as an in-toto statement whose single subject is the plan digest. */
export async function signApproval(
  predicate: ApprovalPredicate,
  signer: ProvenanceSigner,
): Promise<SignedReceipt> {
  const statement: InTotoStatement<ApprovalPredicate> = {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: `plan:${predicate.workflow}`, digest: toDigestSet(predicate.planDigest) }],
    predicateType: APPROVAL_PREDICATE_TYPE,
    predicate,
  };
  return signStatement(statement, signer);
}

/**
 * Verifies an approval bundle for a dispatch: the signature must verify under the app's key, the
 * predicate type must be ours, and the subject and predicate must name exactly this repository,
 * workflow and plan digest. Returns the reason it does not hold, or undefined when it does.
 */
export function checkApproval(
  bundle: unknown,
  publicKeyPem: string,
  expect: { repository: string; workflow: string; planDigest: string },
): string | undefined {
  let statement: InTotoStatement | undefined;
  try {
    statement = verifyBundle(bundle, { publicKey: publicKeyPem }).statement;
  } catch (error) {
    return `the approval attestation does not verify: ${(error as Error).message}`;
  }
  if (!statement || statement.predicateType !== APPROVAL_PREDICATE_TYPE)
    return 'the bundle is not an approval attestation';
  const predicate = statement.predicate as Partial<ApprovalPredicate>;
  const subjectDigest = statement.subject[0]?.digest;
  const wanted = toDigestSet(expect.planDigest);
  const [alg] = Object.keys(wanted);
  if (!alg || subjectDigest?.[alg] !== wanted[alg] || predicate.planDigest !== expect.planDigest)
    return `the approval covers another plan (${predicate.planDigest ?? 'none'}), not ${expect.planDigest}`;
  if (predicate.repository !== expect.repository || predicate.workflow !== expect.workflow)
    return `the approval is for ${predicate.repository}:${predicate.workflow}, not ${expect.repository}:${expect.workflow}`;
  if (!Array.isArray(predicate.approvers) || predicate.approvers.length < (predicate.required ?? 1))
    return 'the approval lists fewer approvers than it requires';
  return undefined;
}
