import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bundleToJSON } from '@sigstore/bundle';
import { DSSEBundleBuilder } from '@sigstore/sign';
import { describe, expect, it } from 'vitest';
import { withEmptyDsseKeyIds } from './dsse-keyid.ts';
import { createLocalKeySigner, keyFingerprint, preAuthEncoding } from './local-key.ts';
import { IN_TOTO_PAYLOAD_TYPE } from './statement.ts';
import { verifyBundle } from './verify.ts';

function key() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    fingerprint: keyFingerprint(publicKey),
  };
}

const statement = Buffer.from(
  JSON.stringify({
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'report.json', digest: { sha256: 'ab'.repeat(32) } }],
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: { note: 'héllo ✓' },
  }),
);

describe('local-key signing without @sigstore/sign (issue 18)', () => {
  it('signs what @sigstore/sign signs: the DSSE pre-authentication encoding, byte for byte', async () => {
    for (const [type, body] of [
      [IN_TOTO_PAYLOAD_TYPE, statement],
      ['', Buffer.alloc(0)],
      ['application/vnd.täst+json', Buffer.from('ünïcode ✓')],
    ] as const) {
      const signed: Buffer[] = [];
      const builder = new DSSEBundleBuilder({
        witnesses: [],
        signer: {
          sign: async (data) => {
            signed.push(data);
            return { signature: Buffer.alloc(64), key: { $case: 'publicKey', publicKey: '', hint: '' } };
          },
        },
      });
      await builder.create({ data: body, type });
      expect(signed[0]!.equals(preAuthEncoding(type, body))).toBe(true);
    }
  });

  it('makes the bundle @sigstore/sign’s DSSEBundleBuilder makes for the same key and signature', async () => {
    const k = key();
    const bundle = await createLocalKeySigner({ privateKeyPem: k.privateKeyPem }).signDsse(
      statement,
      IN_TOTO_PAYLOAD_TYPE,
    );
    // The builder, handed this bundle's signature, must produce the same JSON and have been
    // asked to sign exactly what this signature covers.
    const signature = Buffer.from(bundle.dsseEnvelope!.signatures[0]!.sig, 'base64');
    const signed: Buffer[] = [];
    const builder = new DSSEBundleBuilder({
      witnesses: [],
      signer: {
        sign: async (data) => {
          signed.push(data);
          return { signature, key: { $case: 'publicKey', publicKey: k.publicKeyPem, hint: k.fingerprint } };
        },
      },
    });
    const old = withEmptyDsseKeyIds(
      bundleToJSON(await builder.create({ data: statement, type: IN_TOTO_PAYLOAD_TYPE })),
    );
    expect(JSON.stringify(bundle)).toBe(JSON.stringify(old));
    expect(signed).toHaveLength(1);
    expect(signed[0]!.equals(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, statement))).toBe(true);
    expect(verifyBundle(bundle, { publicKey: k.publicKeyPem }).signer).toEqual({
      kind: 'key',
      keyFingerprint: k.fingerprint,
      development: false,
    });
  });

  it('a receipt signed before (by DSSEBundleBuilder, main at f131cd4) still verifies, and a changed one does not', () => {
    const fixture = JSON.parse(
      readFileSync(new URL('../test/fixtures/receipt-signed-by-sigstore-sign.json', import.meta.url), 'utf8'),
    ) as { publicKeyPem: string; digest: string; bundle: { dsseEnvelope: { payload: string } } };
    const verified = verifyBundle(fixture.bundle, { publicKey: fixture.publicKeyPem });
    expect(verified.payloadDigest).toBe(fixture.digest);
    expect(verified.statement?.subject.length).toBeGreaterThan(0);
    const payload = JSON.parse(Buffer.from(fixture.bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    payload.subject[0].name = 'other.json';
    const tampered = structuredClone(fixture.bundle);
    tampered.dsseEnvelope.payload = Buffer.from(JSON.stringify(payload)).toString('base64');
    expect(() => verifyBundle(tampered, { publicKey: fixture.publicKeyPem })).toThrow(/signature/);
  });

  it('a bundle it signs does not verify with another key', async () => {
    const [a, b] = [key(), key()];
    const bundle = await createLocalKeySigner({ privateKeyPem: a.privateKeyPem }).signDsse(
      statement,
      IN_TOTO_PAYLOAD_TYPE,
    );
    expect(() => verifyBundle(bundle, { publicKey: b.publicKeyPem })).toThrow(/signed by key/);
  });
});
