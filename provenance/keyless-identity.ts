import { readFile } from 'node:fs/promises';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { SigningConfigError } from './errors.ts';
import { sigstoreVerifyLibrary } from './libraries.ts';
import { bundledTrustedRoot } from './trust-root.ts';

/**
 * What a keyless signer publishes so a verifier can check its receipts without asking it: the
 * identity its certificates name (the operator says which: a keyless signer cannot know its SAN
 * before Fulcio answers) and the Sigstore trust root they chain to. The console verifies every
 * keyless receipt in the browser against exactly this (console/app/keyless-verify.ts).
 */
const TRUSTED_ROOT_MEDIA_TYPE = 'application/vnd.dev.sigstore.trustedroot';

export interface KeylessIdentity {
  /** The certificate's SAN, as `maestro verify --certificate-identity` takes it. */
  certificateIdentity: string;
  /** The OIDC issuer, as `--certificate-oidc-issuer` takes it. */
  certificateOidcIssuer: string;
  /** A Sigstore `trusted_root.json` (parsed): Fulcio CA chains, Rekor and CT log keys. */
  trustedRoot: unknown;
  /** `bundled`: public good's root as shipped in sigstore-js; `file`: the operator's MAESTRO_TRUSTED_ROOT. */
  trustedRootSource: 'bundled' | 'file';
}

export interface KeylessIdentitySetting {
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  trustedRootPath?: string;
}

/**
 * The setting checked and its trust root read once, at start: a half-given identity or an
 * unreadable root is refused before anything is signed. Undefined when no identity is set.
 */
export async function loadKeylessIdentity(
  setting: KeylessIdentitySetting,
): Promise<KeylessIdentity | undefined> {
  const { certificateIdentity, certificateOidcIssuer, trustedRootPath } = setting;
  if (!certificateIdentity !== !certificateOidcIssuer)
    throw new SigningConfigError('MAESTRO_KEYLESS_IDENTITY and MAESTRO_KEYLESS_ISSUER go together', {
      hint: 'set both (the certificate SAN and the OIDC issuer your receipts are signed as), or neither',
    });
  if (!certificateIdentity || !certificateOidcIssuer) return undefined;
  if (!trustedRootPath)
    return {
      certificateIdentity,
      certificateOidcIssuer,
      trustedRoot: bundledTrustedRoot(),
      trustedRootSource: 'bundled',
    };
  let trustedRoot: unknown;
  try {
    trustedRoot = JSON.parse(await readFile(trustedRootPath, 'utf8'));
    const mediaType = (trustedRoot as { mediaType?: unknown } | null)?.mediaType;
    if (typeof mediaType !== 'string' || !mediaType.startsWith(TRUSTED_ROOT_MEDIA_TYPE))
      throw new Error(`its mediaType is ${JSON.stringify(mediaType)}`);
    sigstoreVerifyLibrary().toTrustMaterial(TrustedRoot.fromJSON(trustedRoot)); // throws on keys or certificates it cannot read
  } catch (cause) {
    throw new SigningConfigError(
      `MAESTRO_TRUSTED_ROOT ${trustedRootPath} is not a readable Sigstore trusted_root.json`,
      {
        cause,
        hint: 'point it at a trusted_root.json (e.g. from `gh attestation trusted-root`), or unset it for public good',
      },
    );
  }
  return { certificateIdentity, certificateOidcIssuer, trustedRoot, trustedRootSource: 'file' };
}
