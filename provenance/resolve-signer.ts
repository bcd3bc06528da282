import { readFile } from 'node:fs/promises';
import { CIContextProvider, type IdentityProvider } from '@sigstore/sign';
import { loadOrCreateDevKey } from './dev-key.ts';
import { SigningConfigError } from './errors.ts';
import { createKeylessSigner } from './keyless.ts';
import { createLocalKeySigner } from './local-key.ts';
import type { ProvenanceSigner } from './signer.ts';

/** What a surface tells provenance about signing; built from flags and the environment. */
export interface SigningConfig {
  dataDir: string;
  /** Path of the operator's ECDSA P-256 private key (PEM). */
  keyPath?: string;
  /** Keyless: an OIDC identity provider (GitHub Actions), with optional Sigstore URLs. */
  identityProvider?: IdentityProvider;
  fulcioURL?: string;
  rekorURL?: string;
}

/**
 * Reads signing settings from an environment object the surface passes in (only surfaces touch
 * process.env): MAESTRO_SIGNING_KEY (a PEM path); keyless when MAESTRO_SIGNING=keyless, or when
 * GitHub Actions exposes an id-token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL) and no key is set.
 */
export function signingConfigFromEnv(
  env: Record<string, string | undefined>,
  dataDir: string,
): SigningConfig {
  const keyPath = env.MAESTRO_SIGNING_KEY || undefined;
  const keyless =
    env.MAESTRO_SIGNING === 'keyless' ||
    (!keyPath && env.MAESTRO_SIGNING !== 'key' && !!env.ACTIONS_ID_TOKEN_REQUEST_URL);
  return {
    dataDir,
    ...(keyPath ? { keyPath } : {}),
    ...(keyless ? { identityProvider: new CIContextProvider('sigstore') } : {}),
    ...(env.MAESTRO_FULCIO_URL ? { fulcioURL: env.MAESTRO_FULCIO_URL } : {}),
    ...(env.MAESTRO_REKOR_URL ? { rekorURL: env.MAESTRO_REKOR_URL } : {}),
  };
}

/** Keyless if an identity provider is configured, else the operator key, else the dev key. */
export async function resolveSigner(config: SigningConfig): Promise<ProvenanceSigner> {
  if (config.identityProvider)
    return createKeylessSigner({
      identityProvider: config.identityProvider,
      ...(config.fulcioURL ? { fulcioURL: config.fulcioURL } : {}),
      ...(config.rekorURL ? { rekorURL: config.rekorURL } : {}),
    });
  if (config.keyPath) {
    let pem: string;
    try {
      pem = await readFile(config.keyPath, 'utf8');
    } catch (cause) {
      throw new SigningConfigError(`cannot read the signing key ${config.keyPath}`, {
        cause,
        hint: 'MAESTRO_SIGNING_KEY (or --signing-key) must name a readable PEM file',
      });
    }
    return createLocalKeySigner({ privateKeyPem: pem, source: config.keyPath });
  }
  return loadOrCreateDevKey(config.dataDir);
}
