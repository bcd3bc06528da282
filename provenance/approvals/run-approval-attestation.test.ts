import { describe, expect, it } from 'vitest';
import { createLocalKeySigner } from '../local-key.ts';
import { generateKeyPairSync } from 'node:crypto';
import { signApproval } from './approval-attestation.ts';
import { checkRunApproval, signRunApproval, signRunApprovalGrant } from './run-approval-attestation.ts';

function signer() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return createLocalKeySigner({
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  });
}

const binding: {
  runId: string;
  namespace: string;
  workflow: string;
  planDigest: string;
  sourceSha: string | null;
  sourceRepo: string | null;
} = {
  runId: 'r-1',
  namespace: 'ns',
  workflow: 'deploy',
  planDigest: `sha256:${'a'.repeat(64)}`,
  sourceSha: null,
  sourceRepo: null,
};

describe('run approval attestations', () => {
  it('verify for exactly their run, plan, source and approver, under the approval key only', async () => {
    const key = signer();
    const signed = await signRunApproval(
      { ...binding, approver: 'alice', approvedAt: '2026-12-01T00:00:00Z' },
      key,
    );
    const expect1 = { ...binding, approver: 'alice' };
    expect(checkRunApproval(signed.bundle, key.publicKeyPem!, expect1)).toHaveProperty('predicate');
    const refused = (e: Partial<typeof expect1>, k = key) =>
      (checkRunApproval(signed.bundle, k.publicKeyPem!, { ...expect1, ...e }) as { refused?: string })
        .refused;
    expect(refused({ runId: 'r-2' })).toMatch(/runId/);
    expect(refused({ approver: 'bob' })).toMatch(/approver/);
    expect(refused({ sourceSha: 'b'.repeat(40) })).toMatch(/sourceSha/);
    expect(refused({ planDigest: `sha256:${'c'.repeat(64)}` })).toMatch(/another plan/);
    expect(refused({}, signer())).toMatch(/does not verify/);
  });

  it('are never taken for one another or for the App’s pull-request attestation', async () => {
    const key = signer();
    const grant = await signRunApprovalGrant(
      { ...binding, required: 1, approvals: [], grantedAt: '2026-12-01T00:00:00Z' },
      key,
    );
    const app = await signApproval(
      {
        repository: 'o/r',
        workflow: 'deploy',
        pullRequest: 1,
        headSha: 'h',
        baseSha: 'b',
        planDigest: binding.planDigest,
        approvers: [{ login: 'alice', reviewId: 1, commitId: 'h' }],
        required: 1,
        issuedAt: '2026-12-01T00:00:00Z',
        expiresAt: '2099-01-01T00:00:00Z',
      },
      key,
    );
    for (const bundle of [grant.bundle, app.bundle])
      expect(checkRunApproval(bundle, key.publicKeyPem!, { ...binding, approver: 'alice' })).toMatchObject({
        refused: expect.stringMatching(/not an approval attestation of this kind/),
      });
  });
});
