import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Digest, type RunEvidence } from '../core/index.ts';
import { createAttestor, verifyBundle, type ReceiptStatement } from './index.ts';
import { runStatementBytes } from './run-statement-bytes.ts';
import { buildRunStatement } from './statement.ts';
import { freshKeySigner } from './test-fixtures.ts';

const BUILDER = 'https://summit-maestro.dev/builders/control-plane/v1';

/** A run of `n` attempts, some retried, keys inserted out of order as the store lists them. */
function runEvidence(n: number, extra: Partial<RunEvidence> = {}): RunEvidence {
  const attemptReceipts: Record<string, string> = {};
  for (let i = n - 1; i >= 0; i--) {
    attemptReceipts[`layer-${i % 200}-task-${i}#1`] = sha256Digest(`receipt ${i}`);
    if (i % 97 === 0) attemptReceipts[`layer-${i % 200}-task-${i}#2`] = sha256Digest(`retry ${i}`);
  }
  return {
    runId: 'run-01HZX',
    planDigest: sha256Digest('plan'),
    workflow: { name: 'nightly-etl', namespace: 'data' },
    params: {
      z: 1,
      date: '2026-02-01',
      nested: { b: [1, 'two', { y: null, x: true }], a: 0.5 },
      '10': 'ten',
      é: 'ü',
    },
    status: 'succeeded',
    startedAt: Date.UTC(2026, 0, 1, 3, 0, 0),
    finishedAt: Date.UTC(2026, 0, 1, 3, 20, 7, 123),
    attemptReceipts,
    ...extra,
  };
}

/** The old path, byte for byte: the statement object's canonical JSON as UTF-8. */
const oldBytes = (evidence: RunEvidence) =>
  Buffer.from(canonicalJson(buildRunStatement(evidence, BUILDER)), 'utf8');

describe('the run statement written as bytes', () => {
  it.each([
    ['10,000 attempts', runEvidence(10_000)],
    ['no attempts (the plan is the subject)', runEvidence(0)],
    [
      'policy off, an approval, a git source',
      runEvidence(300, {
        policyOff: true,
        approvalDigest: sha256Digest('approval'),
        source: {
          kind: 'git',
          repo: 'https://git.example/acme/etl.git',
          commit: 'a'.repeat(40),
          ref: 'main',
        },
      }),
    ],
    [
      'a directory source, task ids beyond ASCII',
      runEvidence(3, {
        source: { kind: 'directory', repo: '/srv/etl', commit: sha256Digest('tree') },
        attemptReceipts: {
          'zeta#1': sha256Digest('z'),
          'çava#1': sha256Digest('c'),
          'Ω-task#3': sha256Digest('o'),
          'a"quote\\#1': sha256Digest('q'),
        },
      }),
    ],
  ] as const)('is the object builder canonical JSON, byte for byte: %s', (_name, evidence) => {
    const bytes = runStatementBytes(evidence, BUILDER);
    expect(bytes.equals(oldBytes(evidence))).toBe(true);
    expect(sha256Digest(bytes)).toBe(sha256Digest(oldBytes(evidence)));
  });

  it('refuses a task id canonical JSON cannot hold, as the old path did', () => {
    const evidence = runEvidence(1, { attemptReceipts: { '\ud800#1': sha256Digest('x') } });
    expect(() => oldBytes(evidence)).toThrow(/Lone surrogate/);
    expect(() => runStatementBytes(evidence, BUILDER)).toThrow(/Lone surrogate/);
  });

  it('is what the attestor signs: the receipt verifies and its digest is the old one', async () => {
    const { signer, publicKeyPem } = freshKeySigner();
    const evidence = runEvidence(2_000, { policyOff: true });
    const receipt = await createAttestor({ signer, builderId: BUILDER }).attestRun(evidence);
    expect(receipt.digest).toBe(sha256Digest(oldBytes(evidence)));
    const verified = verifyBundle(receipt.bundle, { publicKey: publicKeyPem });
    expect(verified.statement).toEqual(buildRunStatement(evidence, BUILDER));
    expect((verified.statement as ReceiptStatement).subject).toHaveLength(
      Object.keys(evidence.attemptReceipts).length,
    );
  });
});
