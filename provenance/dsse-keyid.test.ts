import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DEV_KEY_HINT_PREFIX,
  DEV_KEY_WARNING,
  createAttestor,
  loadOrCreateDevKey,
  verifyBundle,
} from './index.ts';
import { withEmptyDsseKeyIds } from './dsse-keyid.ts';
import { attemptEvidence, freshKeySigner } from './test-fixtures.ts';

type Bundle = {
  dsseEnvelope: { signatures: { keyid: string; sig: string }[] };
  verificationMaterial: { publicKey: { hint: string } };
};

describe('the DSSE keyid (cosign compares it with its own id for the key, so it stays empty)', () => {
  it('is empty in new bundles, while the verification material still names the key', async () => {
    const { signer } = freshKeySigner();
    const receipt = await createAttestor({ signer }).attestAttempt(attemptEvidence());
    const bundle = receipt.bundle as Bundle;
    expect(bundle.dsseEnvelope.signatures.map((s) => s.keyid)).toEqual(['']);
    expect(bundle.verificationMaterial.publicKey.hint).toBe(signer.keyFingerprint);
  });

  it('keeps the development-key marker where Maestro reads it', async () => {
    const signer = await loadOrCreateDevKey(await mkdtemp(join(tmpdir(), 'maestro-keyid-')));
    const receipt = await createAttestor({ signer }).attestAttempt(attemptEvidence());
    const bundle = receipt.bundle as Bundle;
    expect(bundle.dsseEnvelope.signatures[0]!.keyid).toBe('');
    expect(bundle.verificationMaterial.publicKey.hint).toBe(`${DEV_KEY_HINT_PREFIX}${signer.keyFingerprint}`);
    const verified = verifyBundle(bundle, { publicKey: signer.publicKeyPem! });
    expect(verified.warnings).toEqual([DEV_KEY_WARNING]);
  });

  it('bundles issued with the old keyid still verify, and re-emitted without it verify the same', async () => {
    const { signer, publicKeyPem } = freshKeySigner();
    const receipt = await createAttestor({ signer }).attestAttempt(attemptEvidence());
    const old = structuredClone(receipt.bundle) as Bundle;
    old.dsseEnvelope.signatures[0]!.keyid = signer.keyFingerprint!;
    const before = verifyBundle(old, { publicKey: publicKeyPem });
    const reissued = withEmptyDsseKeyIds(old);
    expect(reissued.dsseEnvelope.signatures[0]!.keyid).toBe('');
    expect(reissued.dsseEnvelope.signatures[0]!.sig).toBe(old.dsseEnvelope.signatures[0]!.sig);
    expect(old.dsseEnvelope.signatures[0]!.keyid, 'the input is not mutated').toBe(signer.keyFingerprint);
    expect(verifyBundle(reissued, { publicKey: publicKeyPem }).payloadDigest).toBe(before.payloadDigest);
  });
});
