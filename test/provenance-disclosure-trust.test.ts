/**
 * `maestro disclose verify` never takes its trust from the archive it checks.
 *
 * - A forger runs a Sigstore of their own (CA, CT log, Rekor: @sigstore/mock), signs a complete,
 *   internally consistent archive with Maestro's own keyless signer for the identity the verifier
 *   expects, and ships the trusted_root.json that trusts their services inside the archive. With
 *   `--certificate-identity` and no `--trusted-root` the archive must be checked under Sigstore's
 *   public-good root (shipped with sigstore-js), so it is rejected.
 * - With neither `--key` nor a certificate identity, the archive's own public key proves only
 *   that the archive agrees with itself: the command exits 1 and names `--key` and
 *   `--allow-unpinned`; with `--allow-unpinned` it passes and says "unpinned".
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signApproval } from '../provenance/index.ts';
import { sha256Digest } from '../core/index.ts';
import {
  createAttestor,
  createLocalKeySigner,
  packDisclosure,
  verifyDisclosure,
  type ProvenanceSigner,
} from '../provenance/index.ts';
import { startAttackerSigstore, type AttackerSigstore } from './helpers/attacker-sigstore.ts';
import { runCaptured } from './cli-helpers.ts';
import { attemptEvidence } from './helpers/provenance-evidence.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';

const SAN = 'https://github.com/acme/shop/.github/workflows/release.yml@refs/heads/main';
const ISSUER = 'https://token.actions.githubusercontent.com';
const REPORT = Buffer.from('{"rows":42}\n');

/** A one-task run packed as `maestro disclose` packs it, signed by `signer`. */
async function archiveSignedBy(
  signer: ProvenanceSigner,
  extra: { trustedRoot?: unknown; approval?: unknown } = {},
): Promise<Buffer> {
  const attestor = createAttestor({ signer });
  const attempt = await attestor.attestAttempt(attemptEvidence({ path: 'report.json', data: REPORT }));
  const run = await attestor.attestRun({
    runId: 'run-1',
    planDigest: sha256Digest('plan'),
    workflow: { name: 'release', namespace: 'shop' },
    params: {},
    status: 'succeeded',
    startedAt: 0,
    finishedAt: 1,
    attemptReceipts: { 'build#1': attempt.digest },
  });
  return packDisclosure(
    {
      runId: 'run-1',
      createdAt: Date.UTC(2026, 0, 2),
      plan: { tasks: ['build'] },
      runReceipt: run.bundle,
      attemptReceipts: [{ taskId: 'build', attempt: 1, bundle: attempt.bundle }],
      artifacts: [{ taskId: 'build', attempt: 1, path: 'report.json', data: REPORT }],
      ...extra,
    },
    signer,
  );
}

let dir: string;
let attacker: AttackerSigstore;

const cli = (args: string[]) => runCaptured(args, dir, { HOME: dir });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-disclose-trust-'));
  attacker = await startAttackerSigstore({ san: SAN, issuer: ISSUER });
});
afterAll(async () => {
  await attacker?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an archive that brings its own trust root', () => {
  it('is rejected with --certificate-identity and no --trusted-root (public-good root, not the archive’s)', async () => {
    const forged = await archiveSignedBy(attacker.signer, { trustedRoot: attacker.trustedRoot });
    // The forgery is complete: under the root it ships, every signature and identity holds.
    const underItsOwnRoot = await verifyDisclosure(forged, {
      trustedIdentity: { subjectAlternativeName: SAN, issuer: ISSUER, trustedRoot: attacker.trustedRoot },
    });
    expect(underItsOwnRoot.signer).toEqual({
      kind: 'certificate',
      subjectAlternativeName: SAN,
      issuer: ISSUER,
    });

    writeFileSync(join(dir, 'forged.tgz'), forged);
    const verdict = await cli([
      'disclose',
      'verify',
      'forged.tgz',
      '--certificate-identity',
      SAN,
      '--certificate-oidc-issuer',
      ISSUER,
      '--format',
      'json',
    ]);
    expect(verdict.code).toBe(1);
    const out = JSON.parse(verdict.stdout) as { ok: boolean; reason: string; message: string };
    expect(out.ok).toBe(false);
    expect(out.reason).toBe('index_signature_invalid');
  });

  it('is accepted only when the verifier itself hands over that root with --trusted-root', async () => {
    const forged = await archiveSignedBy(attacker.signer, { trustedRoot: attacker.trustedRoot });
    writeFileSync(join(dir, 'forged2.tgz'), forged);
    writeFileSync(join(dir, 'attacker-root.json'), JSON.stringify(attacker.trustedRoot));
    const verdict = await cli([
      'disclose',
      'verify',
      'forged2.tgz',
      '--certificate-identity',
      SAN,
      '--certificate-oidc-issuer',
      ISSUER,
      '--trusted-root',
      'attacker-root.json',
    ]);
    expect(verdict.code, verdict.stderr).toBe(0);
    expect(verdict.stdout).toContain('trust root: attacker-root.json');
    expect(verdict.stdout).toContain('(pinned)');
  });
});

/** A fresh P-256 signer, its public key written to `<dir>/<name>.pub.pem`. */
function keySigner(name: string): ProvenanceSigner {
  const { privateKeyPem, publicKeyPem } = freshKeyPairPem();
  writeFileSync(join(dir, `${name}.pub.pem`), publicKeyPem);
  return createLocalKeySigner({ privateKeyPem });
}

describe('an archive checked with no pinned signer', () => {
  beforeAll(async () => {
    writeFileSync(join(dir, 'run.tgz'), await archiveSignedBy(keySigner('signer')));
  });

  it('exits 1 and names --key and --allow-unpinned', async () => {
    const text = await cli(['disclose', 'verify', 'run.tgz']);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain('signer_not_pinned');
    expect(text.stderr).toContain('--key');
    expect(text.stderr).toContain('--allow-unpinned');
    const json = await cli(['disclose', 'verify', 'run.tgz', '--format', 'json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, reason: 'signer_not_pinned' });
  });

  it('passes with --allow-unpinned and says "unpinned" (text and json)', async () => {
    const text = await cli(['disclose', 'verify', 'run.tgz', '--allow-unpinned']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/signer: key sha256:[0-9a-f]{64} \(unpinned: the archive's own key\)/);
    expect(text.stdout).toMatch(/^warning: unpinned: /m);
    const json = await cli(['disclose', 'verify', 'run.tgz', '--allow-unpinned', '--format', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, trust: 'unpinned' });
  });

  it('passes pinned with --key, and says so', async () => {
    const pinned = await cli([
      'disclose',
      'verify',
      'run.tgz',
      '--key',
      'signer.pub.pem',
      '--format',
      'json',
    ]);
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(JSON.parse(pinned.stdout)).toMatchObject({ ok: true, trust: 'pinned', warnings: [] });
  });
});

describe('an approval signed with its own key (MAESTRO_APPROVAL_SIGNING_KEY)', () => {
  const approvalOf = (signer: ProvenanceSigner) =>
    signApproval(
      {
        repository: 'acme/shop',
        workflow: 'release',
        pullRequest: 7,
        headSha: 'a'.repeat(40),
        baseSha: 'b'.repeat(40),
        planDigest: sha256Digest('plan'),
        approvers: [{ login: 'reviewer', reviewId: 1, commitId: 'a'.repeat(40) }],
        required: 1,
        issuedAt: '2026-01-01T00:00:00.000Z',
        expiresAt: '2026-01-08T00:00:00.000Z',
      },
      signer,
    );

  it('verifies with --approval-key, names it when missing, and rejects an approval by another key', async () => {
    const receipts = keySigner('receipts');
    const approvals = keySigner('approvals');
    const approval = (await approvalOf(approvals)).bundle;
    writeFileSync(join(dir, 'approved.tgz'), await archiveSignedBy(receipts, { approval }));
    const withoutKey = await cli(['disclose', 'verify', 'approved.tgz', '--key', 'receipts.pub.pem']);
    expect(withoutKey.code).toBe(1);
    expect(withoutKey.stderr).toContain('receipt_signature_invalid');
    expect(withoutKey.stderr).toContain('--approval-key');
    const withKey = await cli([
      'disclose',
      'verify',
      'approved.tgz',
      '--key',
      'receipts.pub.pem',
      '--approval-key',
      'approvals.pub.pem',
    ]);
    expect(withKey.code, withKey.stderr).toBe(0);
    expect(withKey.stdout).toContain('approval: verified with approvals.pub.pem');

    const forged = (await approvalOf(keySigner('forger'))).bundle;
    writeFileSync(join(dir, 'forged-approval.tgz'), await archiveSignedBy(receipts, { approval: forged }));
    const rejected = await cli([
      'disclose',
      'verify',
      'forged-approval.tgz',
      '--key',
      'receipts.pub.pem',
      '--approval-key',
      'approvals.pub.pem',
      '--format',
      'json',
    ]);
    expect(rejected.code).toBe(1);
    expect(JSON.parse(rejected.stdout)).toMatchObject({ ok: false, reason: 'receipt_signature_invalid' });
  });
});
