/**
 * An image's SBOM as a signed OCI 1.1 referrer: an in-toto statement (predicate type
 * https://cyclonedx.org/bom, the CycloneDX document as its predicate, subject the image's manifest
 * digest) in a Sigstore bundle, stored the way `cosign attest --new-bundle-format --type
 * cyclonedx` stores it. Reading one trusts nothing unsigned: the bundle must verify against the
 * named keys or identities, and its signed subject must be the digest asked about.
 */
import type { ImageReference, RegistryClient } from '../image/index.ts';
import { attestImage, verifyImageAttestation, type ImageSignature, type ImageTrust } from '../image/index.ts';
import type { VerifiedSigner } from '../verify.ts';
import type { ProvenanceSigner } from '../signer.ts';
import { CYCLONEDX_PREDICATE, parseSbom, type ParsedSbom } from './sbom-document.ts';

/** Signs the SBOM as an attestation about the digest `ref` names now, and stores it as its referrer. */
export async function attachImageSbom(
  client: RegistryClient,
  ref: ImageReference,
  sbom: string,
  signer: ProvenanceSigner,
): Promise<ImageSignature> {
  const parsed = parseSbom(sbom, 'the SBOM');
  return attestImage(client, ref, signer, CYCLONEDX_PREDICATE, parsed.bom);
}

export interface VerifiedImageSbom {
  image: string;
  digest: string;
  signer: VerifiedSigner;
  referrer: string;
  sbom: ParsedSbom;
}

/** The SBOM a trusted signer attached to the image; ImageError (ImageUnsigned …) otherwise. */
export async function fetchImageSbom(
  client: RegistryClient,
  ref: ImageReference,
  trust: ImageTrust,
): Promise<VerifiedImageSbom> {
  const verified = await verifyImageAttestation(client, ref, trust, CYCLONEDX_PREDICATE);
  return {
    image: verified.image,
    digest: verified.digest,
    signer: verified.signer,
    referrer: verified.referrer,
    sbom: parseSbom(verified.statement.predicate, `the SBOM attached to ${verified.image}`),
  };
}
