// Shared fixtures for provenance tests: real keys, real evidence shapes (no stubs).
import { generateKeyPairSync } from 'node:crypto';
import { sha256Digest, type AttemptEvidence } from '../core/index.ts';
import { createLocalKeySigner } from './local-key.ts';
import type { ProvenanceSigner } from './signer.ts';

export function freshKeySigner(): { signer: ProvenanceSigner; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const signer = createLocalKeySigner({
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  });
  return { signer, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export function attemptEvidence(overrides: Partial<AttemptEvidence> = {}): AttemptEvidence {
  const report = Buffer.from('{"rows":42}\n');
  return {
    runId: 'run-1',
    taskId: 'extract',
    attempt: 1,
    attemptId: 'att-extract-1',
    planDigest: sha256Digest('plan'),
    workflow: { name: 'nightly-etl', namespace: 'data' },
    params: { requestId: 'R-7' },
    definitionDigest: sha256Digest('definition'),
    codeDigest: sha256Digest('code'),
    runner: 'local',
    inputDigests: { url: sha256Digest('https://example.test'), identity: sha256Digest('id') },
    outputs: { rows: '42' },
    artifacts: [{ path: 'report.json', digest: sha256Digest(report), size: report.length }],
    status: 'succeeded',
    exitCode: 0,
    startedAt: Date.UTC(2026, 0, 1, 3, 0, 0),
    finishedAt: Date.UTC(2026, 0, 1, 3, 0, 5),
    cache: { hit: false, key: sha256Digest('cache-key') },
    policy: { decisionIds: ['dec-1', 'dec-2'], bundleDigest: sha256Digest('policy-bundle') },
    ...overrides,
  };
}
