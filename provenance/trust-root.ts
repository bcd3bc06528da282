import { sigstoreTufSeeds } from './libraries.ts';

/** The TUF repository whose trust root sigstore-js ships as its seed. */
export const SIGSTORE_PUBLIC_GOOD_TUF = 'https://tuf-repo-cdn.sigstore.dev';

/**
 * A snapshot of Sigstore public-good's `trusted_root.json` (Fulcio CAs, Rekor and CT log keys),
 * as shipped inside the installed sigstore-js (`@sigstore/tuf/seeds.json`). Lets keyless receipts
 * be verified with no network; it is as fresh as the installed package, so pass a newer
 * `--trusted-root` (e.g. from `gh attestation trusted-root`) after Sigstore rotates keys.
 */
export function bundledTrustedRoot(): unknown {
  const targets = (sigstoreTufSeeds() as Record<string, { targets?: Record<string, string> }>)[
    SIGSTORE_PUBLIC_GOOD_TUF
  ]?.targets;
  const encoded = targets?.['trusted_root.json'];
  if (!encoded) throw new Error('the installed @sigstore/tuf carries no trusted_root.json seed');
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as unknown;
}
