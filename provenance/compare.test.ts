import { describe, expect, it } from 'vitest';
import { sha256Digest } from '../core/index.ts';
import { compareOutputs, createAttestor, verifyBundle, type InTotoStatement } from './index.ts';
import { attemptEvidence, freshKeySigner } from './test-fixtures.ts';

const REPORT = Buffer.from('{"rows":42}\n');

async function recorded(): Promise<InTotoStatement> {
  const { signer, publicKeyPem } = freshKeySigner();
  const evidence = attemptEvidence({
    outputs: { rows: '42' },
    artifacts: [
      { path: 'report.json', digest: sha256Digest(REPORT), size: REPORT.length },
      { path: 'log.txt', digest: sha256Digest('log'), size: 3 },
    ],
  });
  const receipt = await createAttestor({ signer }).attestAttempt(evidence);
  return verifyBundle(receipt.bundle, { publicKey: publicKeyPem }).statement!;
}

describe('compareOutputs (replay)', () => {
  it('reports every output hash-equal when the replay reproduces them', async () => {
    const report = compareOutputs(await recorded(), {
      outputs: { rows: '42' },
      artifacts: { 'report.json': REPORT, 'log.txt': sha256Digest('log') },
    });
    expect(report.equal).toBe(true);
    expect(report.outputs.map((o) => [o.name, o.result])).toEqual([
      ['maestro:outputs.json', 'equal'],
      ['artifacts/log.txt', 'equal'],
      ['artifacts/report.json', 'equal'],
    ]);
  });

  it('reports different, missing and new outputs by name', async () => {
    const report = compareOutputs(await recorded(), {
      outputs: { rows: '43' },
      artifacts: { 'report.json': Buffer.from('{"rows":43}\n'), 'extra.bin': Buffer.from('x') },
    });
    expect(report.equal).toBe(false);
    expect(Object.fromEntries(report.outputs.map((o) => [o.name, o.result]))).toEqual({
      'maestro:outputs.json': 'different',
      'artifacts/extra.bin': 'new',
      'artifacts/log.txt': 'missing',
      'artifacts/report.json': 'different',
    });
    const different = report.outputs.find((o) => o.name === 'artifacts/report.json');
    expect(different).toMatchObject({
      recorded: sha256Digest(REPORT),
      replayed: sha256Digest('{"rows":43}\n'),
    });
  });

  it('refuses a statement that is not a Maestro attempt receipt', () => {
    const statement = {
      _type: 'https://in-toto.io/Statement/v1' as const,
      subject: [{ name: 'x', digest: { sha256: '0'.repeat(64) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {},
    };
    expect(() => compareOutputs(statement, {})).toThrow(
      expect.objectContaining({ reason: 'statement_malformed' }),
    );
  });
});
