/**
 * The keyless verifier, bundled on its own (console/dist/keyless-verify.js) and loaded by the run
 * page only when a receipt carries a certificate, so pages with key-signed receipts never pay for
 * it. @sigstore/verify itself decides, as `maestro verify --certificate-identity` does on Node
 * (provenance/verify.ts): the Fulcio certificate chains to the published trust root, carries a
 * valid SCT from one of its CT logs, the signature is in one of its transparency logs (inclusion
 * proof or signed entry timestamp, at a time the certificate was valid), the DSSE signature
 * verifies with the certificate's key, and the certificate names the published identity and
 * issuer. Its node:crypto calls are answered by WebCrypto through crypto-oracle.ts.
 */
import { bundleFromJSON } from '@sigstore/bundle';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { Verifier, toSignedEntity, toTrustMaterial } from '@sigstore/verify';
import type { ApiBody } from '../../../core/index.ts';
import { settle } from './crypto-oracle.ts';

export interface KeylessSigned {
  payloadType: string;
  payload: Uint8Array;
}

/** Throws (with sigstore-js's reason) unless the bundle verifies for the published identity. */
export async function verifyKeylessBundle(
  json: unknown,
  published: ApiBody.KeylessIdentity,
): Promise<KeylessSigned> {
  return settle(() => {
    const bundle = bundleFromJSON(json);
    if (bundle.content.$case !== 'dsseEnvelope') throw new Error('the bundle holds no DSSE envelope');
    const trust = toTrustMaterial(TrustedRoot.fromJSON(published.trustedRoot));
    new Verifier(trust).verify(toSignedEntity(bundle), {
      subjectAlternativeName: published.certificateIdentity,
      extensions: { issuer: published.certificateOidcIssuer },
    });
    const envelope = bundle.content.dsseEnvelope;
    return { payloadType: envelope.payloadType, payload: new Uint8Array(envelope.payload) };
  });
}
