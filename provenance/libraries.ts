import { createRequire } from 'node:module';
import type * as SigstoreSign from '@sigstore/sign';
import type * as SigstoreVerify from '@sigstore/verify';
import type * as Semver from 'semver';
import type * as Tar from 'tar';

/**
 * Libraries provenance needs only for some operations, loaded on first use instead of at import:
 * every `maestro run` imports provenance to sign its receipts with a local key, which needs none
 * of them (provenance/local-key.ts builds the bundle with @sigstore/bundle). @sigstore/sign (with
 * its TUF, Fulcio and fetch stack: make-fetch-happen, cacache, socks, ~130 modules) serves keyless
 * signing, @sigstore/verify serves `maestro verify` and the API's checks, semver the SBOM queries,
 * tar the disclosure archives and image layers (issue 18: the quickstart's peak memory). The
 * callers are synchronous, hence require() (cached per module); all four are CommonJS, so this is
 * the instance an `import` elsewhere in the process gets. scripts/build-action.ts turns these
 * calls into plain require()s so esbuild bundles the libraries.
 */
const requireHere = createRequire(import.meta.url);

export const sigstoreSignLibrary = (): typeof SigstoreSign =>
  requireHere('@sigstore/sign') as typeof SigstoreSign;
export const sigstoreVerifyLibrary = (): typeof SigstoreVerify =>
  requireHere('@sigstore/verify') as typeof SigstoreVerify;
export const semverLibrary = (): typeof Semver => requireHere('semver') as typeof Semver;
export const tarLibrary = (): typeof Tar => requireHere('tar') as typeof Tar;
/** sigstore-js's TUF seed (19 KB of JSON): the public-good trust root, for keyless settings only. */
export const sigstoreTufSeeds = (): unknown => requireHere('@sigstore/tuf/seeds.json') as unknown;
