import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import {
  BUNDLE_V03_LEGACY_MEDIA_TYPE,
  BUNDLE_V03_MEDIA_TYPE,
  bundleFromJSON,
  type Bundle,
} from '@sigstore/bundle';
import type { TrustMaterial } from '@sigstore/verify';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { ProvenanceError, RejectReason } from './errors.ts';
import { sigstoreVerifyLibrary } from './libraries.ts';
import { keyFingerprint } from './local-key.ts';
import { DEV_KEY_HINT_PREFIX, DEV_KEY_WARNING } from './signer.ts';
import { IN_TOTO_PAYLOAD_TYPE, IN_TOTO_STATEMENT_V1, type InTotoStatement } from './statement.ts';

/** A keyless signer the verifier trusts: certificate identity and issuer, under a trust root. */
export interface TrustedIdentity {
  /** The certificate's SAN, e.g. `https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1`. */
  subjectAlternativeName: string;
  /** The OIDC issuer, e.g. `https://token.actions.githubusercontent.com`. */
  issuer: string;
  /** A Sigstore `trusted_root.json` snapshot (parsed JSON), so verification stays offline. */
  trustedRoot: unknown;
}

export interface ArtifactToCheck {
  /** A label for messages (usually the file path). */
  name: string;
  data: Uint8Array;
}

export interface VerifyBundleOptions {
  /** PEM of the trusted public key (local or development key). */
  publicKey?: string | KeyObject;
  trustedIdentity?: TrustedIdentity;
  /** Files whose sha256 must be a subject of the statement. */
  artifacts?: ArtifactToCheck[];
  /** The DSSE payload type expected; default in-toto. */
  payloadType?: string;
}

export type VerifiedSigner =
  | { kind: 'key'; keyFingerprint: string; development: boolean }
  | { kind: 'certificate'; subjectAlternativeName: string; issuer: string };

export interface VerifiedBundle {
  payloadType: string;
  payload: Buffer;
  /** `sha256:<hex>` of the payload (for receipts: the statement digest). */
  payloadDigest: string;
  /** The parsed statement when the payload is in-toto. */
  statement?: InTotoStatement;
  signer: VerifiedSigner;
  artifacts: { name: string; digest: string; subject: string }[];
  warnings: string[];
}

const ACCEPTED_MEDIA_TYPES = new Set([BUNDLE_V03_MEDIA_TYPE, BUNDLE_V03_LEGACY_MEDIA_TYPE]);

/** Parses a Sigstore bundle (JSON value) holding a DSSE envelope, or says why it cannot. */
export function parseDsseBundle(json: unknown): Bundle {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new ProvenanceError(RejectReason.bundleMalformed, 'the bundle is not a JSON object');
  const mediaType = (json as { mediaType?: unknown }).mediaType;
  if (typeof mediaType !== 'string' || !ACCEPTED_MEDIA_TYPES.has(mediaType))
    throw new ProvenanceError(
      RejectReason.bundleMediaType,
      `the bundle's media type ${JSON.stringify(mediaType)} is not ${BUNDLE_V03_MEDIA_TYPE}`,
    );
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (cause) {
    throw new ProvenanceError(
      RejectReason.bundleMalformed,
      `the bundle is not a valid Sigstore bundle: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (bundle.content.$case !== 'dsseEnvelope')
    throw new ProvenanceError(RejectReason.bundleMalformed, 'the bundle holds no DSSE envelope');
  return bundle;
}

/**
 * Verifies a Sigstore DSSE bundle offline: the signature, the signer (the given key's fingerprint,
 * or the certificate identity and issuer under a trust-root snapshot), and, when given, that each
 * artifact's sha256 is one of the statement's subjects. Throws ProvenanceError with a reason.
 */
export function verifyBundle(json: unknown, options: VerifyBundleOptions): VerifiedBundle {
  const bundle = parseDsseBundle(json);
  const envelope = bundle.content.$case === 'dsseEnvelope' ? bundle.content.dsseEnvelope : undefined;
  if (!envelope) throw new ProvenanceError(RejectReason.bundleMalformed, 'the bundle holds no DSSE envelope');
  const warnings: string[] = [];
  const signer = options.publicKey
    ? verifyWithKey(bundle, options.publicKey, warnings)
    : options.trustedIdentity
      ? verifyWithIdentity(bundle, options.trustedIdentity)
      : missingMaterial();
  const expectedType = options.payloadType ?? IN_TOTO_PAYLOAD_TYPE;
  if (envelope.payloadType !== expectedType)
    throw new ProvenanceError(
      RejectReason.statementMalformed,
      `the envelope's payload type is ${JSON.stringify(envelope.payloadType)}, expected ${expectedType}`,
    );
  const payload = Buffer.from(envelope.payload);
  const payloadDigest = `sha256:${createHash('sha256').update(payload).digest('hex')}`;
  const statement = expectedType === IN_TOTO_PAYLOAD_TYPE ? parseStatement(payload) : undefined;
  const artifacts = checkArtifacts(statement, options.artifacts ?? []);
  return {
    payloadType: envelope.payloadType,
    payload,
    payloadDigest,
    statement,
    signer,
    artifacts,
    warnings,
  };
}

function missingMaterial(): never {
  throw new ProvenanceError(
    RejectReason.verificationMaterialMissing,
    'nothing to verify against: give a public key, or a certificate identity with a trust root',
  );
}

function verifyWithKey(bundle: Bundle, key: string | KeyObject, warnings: string[]): VerifiedSigner {
  let publicKey: KeyObject;
  try {
    publicKey = typeof key === 'string' ? createPublicKey(key) : key;
  } catch (cause) {
    throw new ProvenanceError(
      RejectReason.verificationMaterialMissing,
      'the public key is not a readable PEM key',
      {
        cause,
      },
    );
  }
  const fingerprint = keyFingerprint(publicKey);
  const material = bundle.verificationMaterial.content;
  if (material.$case !== 'publicKey')
    throw new ProvenanceError(
      RejectReason.signerMismatch,
      'the bundle was signed with a certificate (keyless), but a public key was given to verify it',
    );
  // The hint is not signed: it only explains a failure, it never makes one pass.
  const hint = material.publicKey.hint;
  const development = hint.startsWith(DEV_KEY_HINT_PREFIX);
  const trust: TrustMaterial = {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: () => ({ publicKey, validFor: () => true }),
  };
  const { Verifier, toSignedEntity } = sigstoreVerifyLibrary();
  try {
    new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
      toSignedEntity(bundle),
    );
  } catch (cause) {
    const claimed = development ? hint.slice(DEV_KEY_HINT_PREFIX.length) : hint;
    if (claimed.startsWith('sha256:') && claimed !== fingerprint)
      throw new ProvenanceError(
        RejectReason.signerMismatch,
        `the bundle was signed by key ${claimed}, not by the trusted key ${fingerprint}`,
        { cause },
      );
    throw new ProvenanceError(
      RejectReason.signatureInvalid,
      `the signature does not verify with key ${fingerprint}`,
      {
        cause,
      },
    );
  }
  if (development) warnings.push(DEV_KEY_WARNING);
  return { kind: 'key', keyFingerprint: fingerprint, development };
}

function verifyWithIdentity(bundle: Bundle, identity: TrustedIdentity): VerifiedSigner {
  const { Verifier, toSignedEntity, toTrustMaterial } = sigstoreVerifyLibrary();
  let trust: TrustMaterial;
  try {
    trust = toTrustMaterial(TrustedRoot.fromJSON(identity.trustedRoot));
  } catch (cause) {
    throw new ProvenanceError(
      RejectReason.verificationMaterialMissing,
      'the trust root is not a Sigstore trusted_root.json',
      { cause },
    );
  }
  try {
    new Verifier(trust).verify(toSignedEntity(bundle), {
      subjectAlternativeName: identity.subjectAlternativeName,
      extensions: { issuer: identity.issuer },
    });
  } catch (cause) {
    const code =
      (cause as { name?: string }).name === 'PolicyError'
        ? RejectReason.identityMismatch
        : RejectReason.signatureInvalid;
    throw new ProvenanceError(code, `keyless verification failed: ${(cause as Error).message}`, { cause });
  }
  return {
    kind: 'certificate',
    subjectAlternativeName: identity.subjectAlternativeName,
    issuer: identity.issuer,
  };
}

function parseStatement(payload: Buffer): InTotoStatement {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch (cause) {
    throw new ProvenanceError(RejectReason.statementMalformed, 'the signed payload is not JSON', { cause });
  }
  const statement = value as InTotoStatement;
  if (
    typeof value !== 'object' ||
    value === null ||
    statement._type !== IN_TOTO_STATEMENT_V1 ||
    !Array.isArray(statement.subject) ||
    typeof statement.predicateType !== 'string'
  )
    throw new ProvenanceError(
      RejectReason.statementMalformed,
      `the signed payload is not an in-toto Statement v1`,
    );
  return statement;
}

function checkArtifacts(
  statement: InTotoStatement | undefined,
  artifacts: ArtifactToCheck[],
): VerifiedBundle['artifacts'] {
  if (artifacts.length > 0 && !statement)
    throw new ProvenanceError(
      RejectReason.artifactMismatch,
      'artifacts can only be checked against an in-toto statement',
    );
  return artifacts.map((artifact) => {
    const hex = createHash('sha256').update(artifact.data).digest('hex');
    const subject = statement!.subject.find((s) => s.digest?.sha256 === hex);
    if (!subject)
      throw new ProvenanceError(
        RejectReason.artifactMismatch,
        `artifact ${artifact.name} (sha256:${hex}) is not a subject of the signed statement`,
      );
    return { name: artifact.name, digest: `sha256:${hex}`, subject: subject.name ?? subject.uri ?? '' };
  });
}
