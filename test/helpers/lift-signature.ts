/**
 * A tampered image signature, as an attacker with push access makes one: the valid Sigstore
 * bundle of one image, referred to from another image of the same repository (its referrer
 * manifest re-pushed with `subject` naming the other digest). The bundle still verifies as a
 * signature; what it covers is the first image's digest, so a verifier must refuse it
 * (`ImageSignatureInvalid`).
 */
import { parseImageReference, SIGSTORE_BUNDLE_TYPE, type RegistryClient } from '../../provenance/index.ts';

export async function liftSignature(
  client: RegistryClient,
  signed: { reference: string; digest: string },
  onto: { digest: string },
): Promise<void> {
  const ref = parseImageReference(signed.reference);
  const [descriptor] = await client.referrers(ref, signed.digest, SIGSTORE_BUNDLE_TYPE);
  if (!descriptor) throw new Error(`${signed.reference} has no signature to lift`);
  const manifest = await client.manifest(ref, descriptor.digest);
  const subject = { ...(manifest.json.subject as object), digest: onto.digest };
  await client.pushManifest(
    ref,
    Buffer.from(JSON.stringify({ ...manifest.json, subject })),
    'application/vnd.oci.image.manifest.v1+json',
  );
}
