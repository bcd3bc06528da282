import type { IdentityProvider } from '@sigstore/sign';
import { bundleToJSON } from '@sigstore/bundle';
import { sigstoreSignLibrary } from './libraries.ts';
import type { KeylessIdentity } from './keyless-identity.ts';
import type { ProvenanceSigner } from './signer.ts';

export interface KeylessSignerOptions {
  /** Supplies the OIDC token (the surface builds it, e.g. from GitHub Actions' token endpoint). */
  identityProvider: IdentityProvider;
  fulcioURL?: string;
  rekorURL?: string;
  /** What GET /v1/keys publishes for verifiers: the identity and the trust root. */
  identity?: KeylessIdentity;
}

/**
 * Keyless signing: the OIDC token is exchanged for a short-lived Fulcio certificate, and the DSSE
 * signature is logged in Rekor, so the bundle carries the certificate and the inclusion proof.
 * In production this needs the public Sigstore services and a CI identity token (GitHub Actions);
 * the tests run it against a private Sigstore (test/helpers/attacker-sigstore.ts).
 */
export function createKeylessSigner(options: KeylessSignerOptions): ProvenanceSigner {
  const { DEFAULT_FULCIO_URL, DEFAULT_REKOR_URL, DSSEBundleBuilder, FulcioSigner, RekorWitness } =
    sigstoreSignLibrary();
  const builder = new DSSEBundleBuilder({
    signer: new FulcioSigner({
      identityProvider: options.identityProvider,
      fulcioBaseURL: options.fulcioURL ?? DEFAULT_FULCIO_URL,
    }),
    witnesses: [new RekorWitness({ entryType: 'dsse', rekorBaseURL: options.rekorURL ?? DEFAULT_REKOR_URL })],
  });
  return {
    kind: 'keyless',
    ...(options.identity ? { keyless: options.identity } : {}),
    signDsse: async (payload, payloadType) =>
      bundleToJSON(await builder.create({ data: Buffer.from(payload), type: payloadType })),
  };
}
