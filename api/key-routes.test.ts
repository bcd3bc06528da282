import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLocalKeySigner, type ProvenanceSigner } from '../provenance/index.ts';
import type { ApiContext } from './api-context.ts';
import { listVerificationKeys } from './key-routes.ts';

const withSigner = (signer: ProvenanceSigner | undefined) =>
  ({ runtime: { signer } }) as unknown as ApiContext;

describe('GET /v1/keys', () => {
  it("publishes an operator key's public half: PEM and JWK of the same key, its keyid, no private part", () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const signer = createLocalKeySigner({
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    const answer = listVerificationKeys(withSigner(signer));
    expect(answer.signer).toBe('local-key');
    const [key] = answer.keys;
    expect(key!.keyid).toBe(signer.keyFingerprint);
    expect(key!.development).toBe(false);
    const fromJwk = createPublicKey({ key: { ...key!.jwk }, format: 'jwk' });
    expect(fromJwk.export({ type: 'spki', format: 'pem' })).toBe(key!.publicKeyPem);
    expect(JSON.stringify(answer)).not.toMatch(/PRIVATE|"d":/);
  });

  it("publishes a keyless signer's identity and trust root, and nothing of its token", () => {
    const keyless = {
      kind: 'keyless',
      keyless: {
        certificateIdentity: 'https://github.com/acme/ops/.github/workflows/m.yml@refs/heads/main',
        certificateOidcIssuer: 'https://token.actions.githubusercontent.com',
        trustedRoot: { mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1' },
        trustedRootSource: 'file',
      },
      signDsse: async () => ({}),
    } as unknown as ProvenanceSigner;
    expect(listVerificationKeys(withSigner(keyless))).toEqual({
      signer: 'keyless',
      keys: [],
      keyless: keyless.keyless,
    });
  });

  it('names keyless signing and provenance off with no key, so a client cannot mistake them', () => {
    const keyless = { kind: 'keyless', signDsse: async () => ({}) } as unknown as ProvenanceSigner;
    expect(listVerificationKeys(withSigner(keyless))).toEqual({ signer: 'keyless', keys: [] });
    expect(listVerificationKeys(withSigner(undefined))).toEqual({ signer: 'none', keys: [] });
  });
});
