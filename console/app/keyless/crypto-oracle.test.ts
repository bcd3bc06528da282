import { createHash as nodeHash, generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createHash, createPublicKey, settle, verify } from './crypto-oracle.ts';

const keys = (namedCurve: string) => generateKeyPairSync('ec', { namedCurve });
const spki = (k: ReturnType<typeof keys>) => k.publicKey.export({ type: 'spki', format: 'der' });

describe('node:crypto answered by WebCrypto (settle)', () => {
  it("gives node:crypto's own answers: digests, and ECDSA P-256 and P-384 verdicts on DER signatures", async () => {
    const data = Buffer.from('the data');
    const p256 = keys('prime256v1');
    const p384 = keys('secp384r1');
    const good = sign('sha256', data, p256.privateKey);
    const good384 = sign('sha384', data, p384.privateKey);
    const stranger = spki(keys('prime256v1'));
    const answers = await settle(() => ({
      digest: createHash('sha256').update(data).digest('hex'),
      sha384: createHash('sha384').update('a').update('b').digest('hex'),
      good: verify('sha256', data, createPublicKey({ key: spki(p256), format: 'der', type: 'spki' }), good),
      good384: verify('sha384', data, createPublicKey(spki(p384)), good384),
      otherData: verify('sha256', Buffer.from('other'), createPublicKey(spki(p256)), good),
      otherKey: verify('sha256', data, createPublicKey(stranger), good),
    }));
    expect(answers).toEqual({
      digest: nodeHash('sha256').update(data).digest('hex'),
      sha384: nodeHash('sha384').update('ab').digest('hex'),
      good: true,
      good384: true,
      otherData: false,
      otherKey: false,
    });
  });

  it('re-runs until every answer is real, so a path chosen on a provisional answer never decides', async () => {
    const data = Buffer.from('signed');
    const signer = keys('prime256v1');
    const sig = sign('sha256', data, signer.privateKey);
    const candidates = [keys('prime256v1'), signer, keys('prime256v1')].map((k) => createPublicKey(spki(k)));
    let runs = 0;
    // As a certificate-chain search does: the first key that verifies wins.
    const found = await settle(() => {
      runs++;
      return candidates.findIndex((k) => verify('sha256', data, k, sig));
    });
    expect(found).toBe(1);
    expect(runs).toBeGreaterThan(1);
    // A digest compared to an expected value: the zeros it is first answered with never pass.
    await expect(
      settle(() => {
        if (createHash('sha256').update('x').digest('hex') !== '0'.repeat(64)) throw new Error('mismatch');
        return 'accepted';
      }),
    ).rejects.toThrow('mismatch');
  });

  it('refuses outside settle, and a verification that keeps asking new questions', async () => {
    expect(() => createHash('sha256').update('x').digest()).toThrow(/only answered inside settle/);
    let n = 0;
    await expect(settle(() => createHash('sha256').update(String(n++)).digest(), 5)).rejects.toThrow(
      /did not settle in 5 rounds/,
    );
  });
});
