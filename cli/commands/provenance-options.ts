/**
 * Flags shared by `verify`, `receipts` and `disclose`: where the data dir is, and what to trust
 * when verifying (a key, or a keyless certificate identity under a trust-root snapshot).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, UsageError } from '../../core/index.ts';
import {
  DEV_KEY_DIR,
  DEV_PUBLIC_KEY_FILE,
  bundledTrustedRoot,
  type TrustedIdentity,
} from '../../provenance/index.ts';
import { resolveDataDir } from '../config.ts';
import type { CliIo } from '../io.ts';

export interface TrustFlags {
  key?: string;
  certificateIdentity?: string;
  certificateOidcIssuer?: string;
  trustedRoot?: string;
  dataDir?: string;
}

/** The same data dir every other command uses (cli/config.ts). */
export function dataDirOf(io: CliIo, flag: string | undefined): string {
  return resolveDataDir(flag, io);
}

export function readInputFile(io: CliIo, path: string, what: string): Buffer {
  try {
    return readFileSync(resolve(io.cwd, path));
  } catch (cause) {
    throw new InputError('file_unreadable', `cannot read ${what} ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}

export interface ResolvedTrust {
  publicKey?: string;
  trustedIdentity?: TrustedIdentity;
  /** Where the trust came from, for people: the --key file, or the local development key. */
  source: string;
}

/**
 * --key wins; then a keyless identity (needs --trusted-root unless the archive brings one);
 * then the data dir's development public key, so `maestro verify` works on a developer machine.
 */
export function resolveTrust(
  io: CliIo,
  flags: TrustFlags,
  options: { optional?: boolean } = {},
): ResolvedTrust | undefined {
  if (flags.key)
    return { publicKey: readInputFile(io, flags.key, 'public key').toString('utf8'), source: flags.key };
  if (flags.certificateIdentity || flags.certificateOidcIssuer) {
    if (!flags.certificateIdentity || !flags.certificateOidcIssuer)
      throw new UsageError('--certificate-identity and --certificate-oidc-issuer go together');
    // Without --trusted-root: the public-good trust root shipped with sigstore-js (for
    // `disclose verify`, verifyDisclosure picks it; never the archive's own snapshot).
    const trustedRoot = flags.trustedRoot
      ? (JSON.parse(readInputFile(io, flags.trustedRoot, 'trusted root').toString('utf8')) as unknown)
      : options.optional
        ? undefined
        : bundledTrustedRoot();
    return {
      trustedIdentity: {
        subjectAlternativeName: flags.certificateIdentity,
        issuer: flags.certificateOidcIssuer,
        trustedRoot,
      },
      source: `${flags.certificateIdentity} (${flags.certificateOidcIssuer})`,
    };
  }
  if (options.optional) return undefined;
  const devKey = join(dataDirOf(io, flags.dataDir), DEV_KEY_DIR, DEV_PUBLIC_KEY_FILE);
  if (existsSync(devKey))
    return { publicKey: readFileSync(devKey, 'utf8'), source: `${devKey} (development key)` };
  throw new UsageError(
    'nothing to verify against: pass --key <public.pem>, or --certificate-identity, --certificate-oidc-issuer and --trusted-root',
  );
}

export function addTrustOptions<T extends { option: (flags: string, description: string) => T }>(
  command: T,
): T {
  return command
    .option('--key <public.pem>', 'trusted public key (PEM) of a local or development signing key')
    .option('--certificate-identity <san>', 'keyless: the expected certificate identity (SAN)')
    .option('--certificate-oidc-issuer <url>', 'keyless: the expected OIDC issuer')
    .option(
      '--trusted-root <file>',
      'keyless: a Sigstore trusted_root.json (default: the snapshot shipped with sigstore-js)',
    )
    .option(
      '--data-dir <dir>',
      'Maestro data directory (default $MAESTRO_DATA_DIR, else $XDG_DATA_HOME/maestro)',
    );
}
