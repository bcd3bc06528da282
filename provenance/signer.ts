import type { SerializedBundle } from '@sigstore/bundle';
import type { KeylessIdentity } from './keyless-identity.ts';

/** How a signer proves who signed: an operator key, the development key, or a Fulcio certificate. */
export type SignerKind = 'local-key' | 'development-key' | 'keyless';

export const DEV_KEY_WARNING = 'signed with a development key: not for production trust';

/** The key-hint prefix of bundles signed with the development key, so verifiers can warn. */
export const DEV_KEY_HINT_PREFIX = 'maestro-dev:';

/**
 * A configured signer. It produces standard Sigstore bundles with a DSSE envelope; the private
 * key (or the identity token) stays inside the object's closure and is never serialised.
 */
export interface ProvenanceSigner {
  readonly kind: SignerKind;
  /** `sha256:<hex>` of the public key's SPKI DER (key signers only). */
  readonly keyFingerprint?: string;
  /** PEM of the public key (key signers only): what a verifier needs offline. */
  readonly publicKeyPem?: string;
  /** Set when receipts from this signer must carry a warning (the development key). */
  readonly warning?: string;
  /** A keyless signer's published identity and trust root (when its operator set them). */
  readonly keyless?: KeylessIdentity;
  signDsse(payload: Uint8Array, payloadType: string): Promise<SerializedBundle>;
}
