import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../core/index.ts';
import {
  DEV_KEY_WARNING,
  OUTPUTS_SUBJECT,
  ProvenanceError,
  createAttestor,
  loadOrCreateDevKey,
  outputsDocument,
  signStatement,
  verifyBundle,
  type ReceiptStatement,
} from './index.ts';
import { attemptEvidence, freshKeySigner } from './test-fixtures.ts';

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProvenanceError) return error.reason;
    throw error;
  }
  return 'accepted';
};

describe('attempt receipts', () => {
  it('signs a succeeded attempt and verifies it with the key, the artifact and its digest', async () => {
    const { signer, publicKeyPem } = freshKeySigner();
    const attestor = createAttestor({ signer });
    const receipt = await attestor.attestAttempt(attemptEvidence());
    expect((receipt.bundle as { mediaType: string }).mediaType).toBe(
      'application/vnd.dev.sigstore.bundle.v0.3+json',
    );
    const verified = verifyBundle(receipt.bundle, {
      publicKey: publicKeyPem,
      artifacts: [{ name: 'report.json', data: Buffer.from('{"rows":42}\n') }],
    });
    expect(verified.payloadDigest).toBe(receipt.digest);
    expect(verified.signer).toEqual({
      kind: 'key',
      keyFingerprint: signer.keyFingerprint,
      development: false,
    });
    expect(verified.warnings).toEqual([]);
    const statement = verified.statement as ReceiptStatement;
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.subject).toEqual([
      { name: 'artifacts/report.json', digest: { sha256: sha256Digest('{"rows":42}\n').slice(7) } },
    ]);
    const { buildDefinition, runDetails } = statement.predicate;
    expect(buildDefinition.externalParameters.planDigest).toBe(sha256Digest('plan'));
    expect(buildDefinition.resolvedDependencies.map((d) => d.name)).toEqual([
      'task-definition',
      'task-code',
      'input:identity',
      'input:url',
    ]);
    expect(runDetails.metadata.invocationId).toBe('run-1/att-extract-1');
    expect(runDetails.metadata.startedOn).toBe('2026-01-01T03:00:00.000Z');
    expect(buildDefinition.internalParameters.maestro).toMatchObject({
      status: 'succeeded',
      exitCode: 0,
      cache: { hit: false },
      policy: { decisionIds: ['dec-1', 'dec-2'] },
    });
  });

  it.each([
    ['failed', 2],
    ['cancelled', null],
    ['timed_out', null],
  ] as const)(
    'signs a %s attempt with no artifacts, its subject the outputs document',
    async (status, exitCode) => {
      const { signer, publicKeyPem } = freshKeySigner();
      const evidence = attemptEvidence({ status, exitCode, artifacts: [], outputs: {} });
      const receipt = await createAttestor({ signer }).attestAttempt(evidence);
      const statement = verifyBundle(receipt.bundle, { publicKey: publicKeyPem })
        .statement as ReceiptStatement;
      expect(statement.subject).toEqual([
        { name: OUTPUTS_SUBJECT, digest: { sha256: sha256Digest(outputsDocument({})).slice(7) } },
      ]);
      expect(statement.predicate.buildDefinition.internalParameters.maestro).toMatchObject({
        status,
        exitCode,
      });
    },
  );

  it('records a cache hit with its key', async () => {
    const { signer, publicKeyPem } = freshKeySigner();
    const receipt = await createAttestor({ signer }).attestAttempt(
      attemptEvidence({ status: 'cached', cache: { hit: true, key: sha256Digest('k') } }),
    );
    const statement = verifyBundle(receipt.bundle, { publicKey: publicKeyPem }).statement as ReceiptStatement;
    expect(statement.predicate.buildDefinition.internalParameters.maestro).toMatchObject({
      status: 'cached',
      cache: { hit: true, key: sha256Digest('k') },
    });
  });

  it('takes the builder id from the attestor, never from evidence', async () => {
    const { signer, publicKeyPem } = freshKeySigner();
    const attestor = createAttestor({ signer, builderId: 'https://maestro.example/builder' });
    const hostile = { ...attemptEvidence(), builder: { id: 'https://evil' } } as ReturnType<
      typeof attemptEvidence
    >;
    const statement = verifyBundle((await attestor.attestAttempt(hostile)).bundle, {
      publicKey: publicKeyPem,
    }).statement as ReceiptStatement;
    expect(statement.predicate.runDetails.builder.id).toBe('https://maestro.example/builder');
  });

  it('refuses evidence whose artifact path escapes the artifacts dir', async () => {
    const { signer } = freshKeySigner();
    const evidence = attemptEvidence({
      artifacts: [{ path: '../other-run/x', digest: sha256Digest('x'), size: 1 }],
    });
    await expect(createAttestor({ signer }).attestAttempt(evidence)).rejects.toMatchObject({
      code: 'evidence_invalid',
    });
  });

  it('refuses to sign fields that break schemas/receipt-maestro.schema.json', async () => {
    const { signer } = freshKeySigner();
    await expect(
      createAttestor({ signer }).attestAttempt(attemptEvidence({ status: '' })),
    ).rejects.toMatchObject({
      code: 'evidence_invalid',
      message: expect.stringContaining('/status'),
    });
  });

  it('signs a run receipt whose subjects are the attempt receipts', async () => {
    const { signer, publicKeyPem } = freshKeySigner();
    const attestor = createAttestor({ signer });
    const a = await attestor.attestAttempt(attemptEvidence());
    const run = await attestor.attestRun({
      runId: 'run-1',
      planDigest: sha256Digest('plan'),
      workflow: { name: 'nightly-etl', namespace: 'data' },
      params: {},
      status: 'succeeded',
      startedAt: 0,
      finishedAt: 1,
      attemptReceipts: { 'extract#1': a.digest },
    });
    const statement = verifyBundle(run.bundle, { publicKey: publicKeyPem }).statement as ReceiptStatement;
    expect(statement.subject).toEqual([{ name: 'receipt:extract#1', digest: { sha256: a.digest.slice(7) } }]);
    expect(statement.predicate.runDetails.metadata.invocationId).toBe('run-1');
  });
});

describe('verification failures', () => {
  it('rejects a changed payload, another key, a wrong artifact and a wrong media type, each by reason', async () => {
    const { signer, publicKeyPem } = freshKeySigner();
    const other = freshKeySigner();
    const receipt = await createAttestor({ signer }).attestAttempt(attemptEvidence());
    const bundle = receipt.bundle as { mediaType: string; dsseEnvelope: { payload: string } };
    const changed = structuredClone(bundle);
    const payload = JSON.parse(Buffer.from(changed.dsseEnvelope.payload, 'base64').toString());
    payload.predicate.runDetails.builder.id = 'https://evil';
    changed.dsseEnvelope.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
    expect(reasonOf(() => verifyBundle(changed, { publicKey: publicKeyPem }))).toBe('signature_invalid');
    expect(reasonOf(() => verifyBundle(bundle, { publicKey: other.publicKeyPem }))).toBe('signer_mismatch');
    expect(
      reasonOf(() =>
        verifyBundle(bundle, {
          publicKey: publicKeyPem,
          artifacts: [{ name: 'x', data: Buffer.from('nope') }],
        }),
      ),
    ).toBe('artifact_mismatch');
    expect(
      reasonOf(() => verifyBundle({ ...bundle, mediaType: 'application/json' }, { publicKey: publicKeyPem })),
    ).toBe('bundle_media_type');
    expect(reasonOf(() => verifyBundle(bundle, {}))).toBe('verification_material_missing');
  });

  it('signs and verifies an arbitrary in-toto statement (approval attestations)', async () => {
    const { signer, publicKeyPem } = freshKeySigner();
    const statement = {
      _type: 'https://in-toto.io/Statement/v1' as const,
      subject: [{ name: 'plan', digest: { sha256: sha256Digest('plan').slice(7) } }],
      predicateType: 'https://summit-maestro.dev/approval/v1',
      predicate: { reviewers: ['alice'] },
    };
    const signed = await signStatement(statement, signer);
    expect(verifyBundle(signed.bundle, { publicKey: publicKeyPem }).statement).toEqual(statement);
  });
});

describe('development key', () => {
  it('is created 0600 under <data-dir>/keys, reused, and its receipts carry the warning', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'maestro-prov-'));
    const first = await loadOrCreateDevKey(dataDir);
    const second = await loadOrCreateDevKey(dataDir);
    expect(second.keyFingerprint).toBe(first.keyFingerprint);
    expect(first.kind).toBe('development-key');
    expect(first.warning).toBe(DEV_KEY_WARNING);
    expect((await stat(join(dataDir, 'keys', 'dev-signing-key.pem'))).mode & 0o777).toBe(0o600);
    const pub = await readFile(join(dataDir, 'keys', 'dev-signing-key.pub.pem'), 'utf8');
    const receipt = await createAttestor({ signer: first }).attestAttempt(attemptEvidence());
    const verified = verifyBundle(receipt.bundle, { publicKey: pub });
    expect(verified.signer).toMatchObject({ development: true });
    expect(verified.warnings).toContain(DEV_KEY_WARNING);
  });
});
