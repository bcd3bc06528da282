import { readFile, stat } from 'node:fs/promises';
import type { IdentityProvider } from '@sigstore/sign';
import { loadOrCreateDevKey } from './dev-key.ts';
import { SigningConfigError } from './errors.ts';
import { createKeylessSigner } from './keyless.ts';
import { sigstoreSignLibrary } from './libraries.ts';
import { loadKeylessIdentity, type KeylessIdentitySetting } from './keyless-identity.ts';
import { createLocalKeySigner } from './local-key.ts';
import type { ProvenanceSigner } from './signer.ts';

/** What a surface tells provenance about signing; built from flags and the environment. */
export interface SigningConfig {
  dataDir: string;
  /** Path of the operator's ECDSA P-256 private key (PEM) for receipts: MAESTRO_SIGNING_KEY. */
  keyPath?: string;
  /** Path of the approval-attestation key (PEM): MAESTRO_APPROVAL_SIGNING_KEY, a different key. */
  approvalKeyPath?: string;
  /** Keyless: an OIDC identity provider (GitHub Actions), with optional Sigstore URLs. */
  identityProvider?: IdentityProvider;
  fulcioURL?: string;
  rekorURL?: string;
  /** Keyless: the identity receipts are signed as, and the trust root, published for verifiers. */
  keylessIdentity?: KeylessIdentitySetting;
}

/**
 * Reads signing settings from an environment object the surface passes in (only surfaces touch
 * process.env): MAESTRO_SIGNING_KEY (a PEM path); keyless when MAESTRO_SIGNING=keyless, or when
 * GitHub Actions exposes an id-token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) and no key is set;
 * MAESTRO_KEYLESS_IDENTITY, MAESTRO_KEYLESS_ISSUER and MAESTRO_TRUSTED_ROOT (what GET /v1/keys
 * publishes for a keyless signer).
 */
export function signingConfigFromEnv(
  env: Record<string, string | undefined>,
  dataDir: string,
): SigningConfig {
  const keyPath = env.MAESTRO_SIGNING_KEY || undefined;
  const approvalKeyPath = env.MAESTRO_APPROVAL_SIGNING_KEY || undefined;
  const keyless =
    env.MAESTRO_SIGNING === 'keyless' ||
    (!keyPath && env.MAESTRO_SIGNING !== 'key' && !!env.ACTIONS_ID_TOKEN_REQUEST_URL);
  return {
    dataDir,
    ...(keyPath ? { keyPath } : {}),
    ...(approvalKeyPath ? { approvalKeyPath } : {}),
    ...(keyless ? { identityProvider: new (sigstoreSignLibrary().CIContextProvider)('sigstore') } : {}),
    ...(env.MAESTRO_FULCIO_URL ? { fulcioURL: env.MAESTRO_FULCIO_URL } : {}),
    ...(env.MAESTRO_REKOR_URL ? { rekorURL: env.MAESTRO_REKOR_URL } : {}),
    ...(keyless ? { keylessIdentity: keylessIdentitySetting(env) } : {}),
  };
}

function keylessIdentitySetting(env: Record<string, string | undefined>): KeylessIdentitySetting {
  return {
    ...(env.MAESTRO_KEYLESS_IDENTITY ? { certificateIdentity: env.MAESTRO_KEYLESS_IDENTITY } : {}),
    ...(env.MAESTRO_KEYLESS_ISSUER ? { certificateOidcIssuer: env.MAESTRO_KEYLESS_ISSUER } : {}),
    ...(env.MAESTRO_TRUSTED_ROOT ? { trustedRootPath: env.MAESTRO_TRUSTED_ROOT } : {}),
  };
}

/** Keyless if an identity provider is configured, else the operator key, else the dev key. */
export async function resolveSigner(config: SigningConfig): Promise<ProvenanceSigner> {
  if (config.identityProvider) {
    const identity = await loadKeylessIdentity(config.keylessIdentity ?? {});
    return createKeylessSigner({
      identityProvider: config.identityProvider,
      ...(identity ? { identity } : {}),
      ...(config.fulcioURL ? { fulcioURL: config.fulcioURL } : {}),
      ...(config.rekorURL ? { rekorURL: config.rekorURL } : {}),
    });
  }
  if (config.keyPath) return readOperatorKey(config.keyPath, 'MAESTRO_SIGNING_KEY (or --signing-key)');
  return loadOrCreateDevKey(config.dataDir, 'receipts');
}

/**
 * The key that signs approval attestations: MAESTRO_APPROVAL_SIGNING_KEY, else the development
 * approval key (its own file, never the receipt key). Never keyless: the App signs on a server.
 */
export async function resolveApprovalSigner(config: SigningConfig): Promise<ProvenanceSigner> {
  if (config.approvalKeyPath) return readOperatorKey(config.approvalKeyPath, 'MAESTRO_APPROVAL_SIGNING_KEY');
  return loadOrCreateDevKey(config.dataDir, 'approvals');
}

/** An operator's key file: readable by its owner only (0600), else refused before it is used. */
async function readOperatorKey(path: string, setting: string): Promise<ProvenanceSigner> {
  let pem: string;
  try {
    const mode = (await stat(path)).mode & 0o777;
    if ((mode & 0o077) !== 0)
      throw new SigningConfigError(
        `the signing key ${path} is readable by others (mode ${mode.toString(8).padStart(4, '0')})`,
        { hint: `keep it readable by its owner only: chmod 600 ${path} (and its directory 0700)` },
      );
    pem = await readFile(path, 'utf8');
  } catch (cause) {
    if (cause instanceof SigningConfigError) throw cause;
    throw new SigningConfigError(`cannot read the signing key ${path}`, {
      cause,
      hint: `${setting} must name a readable PEM file`,
    });
  }
  return createLocalKeySigner({ privateKeyPem: pem, source: path });
}
