/**
 * Image signatures in the layout cosign writes and reads with `--new-bundle-format`
 * (cosign's specs/BUNDLE_SPEC.md): a Sigstore bundle v0.3 holding a DSSE envelope over an in-toto
 * statement (predicate type `https://sigstore.dev/cosign/sign/v1`, subject the manifest digest),
 * stored as a blob and referred to by an OCI 1.1 artifact manifest whose `subject` is the image.
 * Verification reads the referrers of the digest, never a tag, and checks every byte by digest.
 */
import { createPublicKey } from 'node:crypto';
import { canonicalJson } from '../../core/index.ts';
import { ProvenanceError, RejectReason } from '../errors.ts';
import { keyFingerprint } from '../local-key.ts';
import type { ProvenanceSigner } from '../signer.ts';
import { IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, type InTotoStatement } from '../statement.ts';
import { verifyBundle, type TrustedIdentity, type VerifiedSigner } from '../verify.ts';
import { ImageError, ImageReason } from './image-errors.ts';
import { pinnedReference, type ImageReference } from './image-reference.ts';
import { OCI_MANIFEST, type Descriptor, type RegistryClient } from './registry-client.ts';

export const SIGSTORE_BUNDLE_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const EMPTY_TYPE = 'application/vnd.oci.empty.v1+json';
const EMPTY_CONFIG = Buffer.from('{}');

export interface ImageSignature {
  /** The signed image, pinned: `registry/repository@sha256:…`. */
  image: string;
  digest: string;
  /** The digest of the referrer manifest that holds the bundle. */
  referrer: string;
}

/** Signs the manifest digest `ref` resolves to and stores the bundle as its referrer. */
export async function signImage(
  client: RegistryClient,
  ref: ImageReference,
  signer: ProvenanceSigner,
  now: Date = new Date(),
): Promise<ImageSignature> {
  return attestImage(client, ref, signer, COSIGN_SIGN_PREDICATE, {}, now);
}

/**
 * Signs an in-toto statement about the digest `ref` resolves to (cosign's `attest` with
 * `--new-bundle-format`: the predicate type is also an annotation of the referrer, for readers to
 * filter on; only the signed statement's own type is trusted) and stores it as a referrer.
 */
export async function attestImage(
  client: RegistryClient,
  ref: ImageReference,
  signer: ProvenanceSigner,
  predicateType: string,
  predicate: unknown,
  now: Date = new Date(),
): Promise<ImageSignature> {
  const image = await client.resolve(ref);
  const statement: InTotoStatement<unknown> = {
    _type: IN_TOTO_STATEMENT_V1,
    subject: [{ name: `${ref.registry}/${ref.repository}`, digest: { sha256: image.digest.slice(7) } }],
    predicateType,
    predicate,
  };
  const bundle = await signer.signDsse(Buffer.from(canonicalJson(statement), 'utf8'), IN_TOTO_PAYLOAD_TYPE);
  return pushBundleReferrer(client, ref, image, bundle, predicateType, now);
}

/**
 * Stores a Sigstore bundle already signed (an attestation about `image`, e.g. a release's SLSA
 * provenance) as a referrer of the image: the layout attestImage writes. Nothing is checked here;
 * readers verify the bundle and its subject (verifyImageAttestation).
 */
export async function pushBundleReferrer(
  client: RegistryClient,
  ref: ImageReference,
  image: { digest: string; mediaType: string; bytes: Buffer },
  bundle: unknown,
  predicateType: string,
  now: Date = new Date(),
): Promise<ImageSignature> {
  const bundleBytes = Buffer.from(JSON.stringify(bundle));
  const layer = await client.pushBlob(ref, bundleBytes);
  const config = await client.pushBlob(ref, EMPTY_CONFIG);
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: SIGSTORE_BUNDLE_TYPE,
    config: { mediaType: EMPTY_TYPE, digest: config.digest, size: config.size },
    layers: [
      {
        mediaType: SIGSTORE_BUNDLE_TYPE,
        digest: layer.digest,
        size: layer.size,
        annotations: { 'org.opencontainers.image.title': `${layer.digest.replace(':', '-')}.sigstore.json` },
      },
    ],
    subject: { mediaType: image.mediaType, digest: image.digest, size: image.bytes.length },
    annotations: {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': predicateType,
      'org.opencontainers.image.created': now.toISOString().replace(/\.\d+Z$/, 'Z'),
    },
  };
  const referrer = await client.pushManifest(ref, Buffer.from(JSON.stringify(manifest)), OCI_MANIFEST);
  return { image: pinnedReference(ref, image.digest), digest: image.digest, referrer };
}

/** Whom a signature must come from: any one of these keys or identities. */
export interface ImageTrust {
  publicKeys: string[];
  identities: TrustedIdentity[];
}

export interface VerifiedImage {
  image: string;
  digest: string;
  signer: VerifiedSigner;
  referrer: string;
}

/** A verified attestation about an image: the signed statement, whose subject is its digest. */
export interface VerifiedAttestation extends VerifiedImage {
  statement: InTotoStatement;
}

/**
 * Verifies that a trusted signer signed the digest `ref` resolves to (or pins). Throws ImageError:
 * ImageUnsigned (no bundle refers to it), ImageSignatureInvalid (bundles that do not verify or
 * cover another digest), ImageSignerUntrusted (bundles by signers the trust does not name).
 */
export async function verifyImage(
  client: RegistryClient,
  ref: ImageReference,
  trust: ImageTrust,
): Promise<VerifiedImage> {
  const v = await verifyImageAttestation(client, ref, trust, COSIGN_SIGN_PREDICATE);
  return { image: v.image, digest: v.digest, signer: v.signer, referrer: v.referrer };
}

/**
 * Verifies that a trusted signer made an attestation of `predicateType` about the digest `ref`
 * resolves to, and returns its signed statement. Referrers annotated with another predicate type
 * are passed over (a signature is not an SBOM); the annotation is only a filter: the signed
 * statement's own type and subject decide. Throws ImageError as verifyImage does.
 */
export async function verifyImageAttestation(
  client: RegistryClient,
  ref: ImageReference,
  trust: ImageTrust,
  predicateType: string,
): Promise<VerifiedAttestation> {
  if (trust.publicKeys.length === 0 && trust.identities.length === 0)
    throw new ProvenanceError(
      RejectReason.verificationMaterialMissing,
      'no key or identity to verify the image against',
    );
  const image = await client.resolve(ref);
  const descriptors = (await client.referrers(ref, image.digest, SIGSTORE_BUNDLE_TYPE)).filter((d) => {
    const annotated = d.annotations?.['dev.sigstore.bundle.predicateType'];
    return annotated === undefined || annotated === predicateType;
  });
  const pinned = pinnedReference(ref, image.digest);
  if (descriptors.length === 0)
    throw new ImageError(
      ImageReason.unsigned,
      predicateType === COSIGN_SIGN_PREDICATE
        ? `${pinned} has no signature (no Sigstore bundle refers to it)`
        : `${pinned} has no attestation of type ${predicateType} (no Sigstore bundle of that type refers to it)`,
      {
        hint: 'sign it with `maestro image sign` or `cosign sign --new-bundle-format`',
      },
    );
  const failures: ImageReason[] = [];
  const messages: string[] = [];
  for (const descriptor of descriptors) {
    try {
      const { signer, statement } = await verifyReferrer(
        client,
        ref,
        image.digest,
        descriptor,
        trust,
        predicateType,
      );
      return { image: pinned, digest: image.digest, signer, referrer: descriptor.digest, statement };
    } catch (error) {
      if (!(error instanceof ImageError)) throw error;
      failures.push(error.reason);
      messages.push(error.message);
    }
  }
  // A signature by a stranger is not a tampered one: say which, so the operator knows what to fix.
  const reason = failures.includes(ImageReason.signatureInvalid)
    ? ImageReason.signatureInvalid
    : ImageReason.signerUntrusted;
  throw new ImageError(
    reason,
    `${pinned}: no signature verifies against the trusted signers (${messages.join('; ')})`,
  );
}

async function verifyReferrer(
  client: RegistryClient,
  ref: ImageReference,
  digest: string,
  descriptor: Descriptor,
  trust: ImageTrust,
  predicateType: string,
): Promise<{ signer: VerifiedSigner; statement: InTotoStatement }> {
  const manifest = await client.manifest(ref, descriptor.digest);
  const subject = manifest.json.subject as Descriptor | undefined;
  const layers = (manifest.json.layers ?? []) as Descriptor[];
  const layer = layers.find((l) => l.mediaType === SIGSTORE_BUNDLE_TYPE);
  if (subject?.digest !== digest || !layer)
    throw new ImageError(
      ImageReason.signatureInvalid,
      `referrer ${descriptor.digest} is not a bundle about ${digest}`,
    );
  const bytes = await client.blob(ref, layer.digest);
  let bundle: unknown;
  try {
    bundle = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new ImageError(ImageReason.signatureInvalid, `the bundle ${layer.digest} is not JSON`);
  }
  let sawStranger = false;
  for (const candidate of candidates(trust)) {
    try {
      const verified = verifyBundle(bundle, candidate.options);
      checkStatement(verified.statement, digest, predicateType);
      return { signer: verified.signer, statement: verified.statement! };
    } catch (error) {
      if (error instanceof ImageError) throw error;
      if (!(error instanceof ProvenanceError)) throw error;
      if (candidate.kind === 'key' && !keyMatchesHint(bundle, candidate.fingerprints)) sawStranger = true;
      else if (candidate.kind === 'identity' && error.reason === RejectReason.identityMismatch)
        sawStranger = true;
      else if (error.reason === RejectReason.signerMismatch) sawStranger = true;
      else
        throw new ImageError(ImageReason.signatureInvalid, `bundle ${layer.digest}: ${error.message}`, {
          cause: error,
        });
    }
  }
  if (!sawStranger)
    throw new ImageError(ImageReason.signatureInvalid, `bundle ${layer.digest} does not verify`);
  throw new ImageError(
    ImageReason.signerUntrusted,
    `bundle ${layer.digest} is signed by a signer the policy does not trust`,
  );
}

type Candidate =
  | { kind: 'key'; options: { publicKey: string }; fingerprints: string[] }
  | { kind: 'identity'; options: { trustedIdentity: TrustedIdentity } };

function candidates(trust: ImageTrust): Candidate[] {
  return [
    ...trust.publicKeys.map((publicKey): Candidate => {
      const hex = keyFingerprint(createPublicKey(publicKey)).slice(7);
      // Maestro's hint is `sha256:<hex>`, cosign's the base64 of the same SPKI digest.
      return {
        kind: 'key',
        options: { publicKey },
        fingerprints: [`sha256:${hex}`, Buffer.from(hex, 'hex').toString('base64')],
      };
    }),
    ...trust.identities.map((trustedIdentity): Candidate => ({
      kind: 'identity',
      options: { trustedIdentity },
    })),
  ];
}

/** The hint is not signed: it only decides which failure to name, never whether one passes. */
function keyMatchesHint(bundle: unknown, fingerprints: string[]): boolean {
  const material = (bundle as { verificationMaterial?: { publicKey?: { hint?: string } } })
    .verificationMaterial;
  const hint = material?.publicKey?.hint;
  if (hint === undefined) return false;
  return fingerprints.some((f) => hint === f || hint.endsWith(f));
}

function checkStatement(statement: InTotoStatement | undefined, digest: string, predicateType: string): void {
  const hex = digest.slice(7);
  if (statement?.predicateType !== predicateType)
    throw new ImageError(
      ImageReason.signatureInvalid,
      `the signed statement's predicate type is ${JSON.stringify(statement?.predicateType)}, not ${predicateType}`,
    );
  if (!statement.subject.some((s) => s.digest?.sha256 === hex))
    throw new ImageError(ImageReason.signatureInvalid, `the signature covers another image, not ${digest}`);
}
