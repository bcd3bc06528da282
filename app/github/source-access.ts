/**
 * Which installation token may fetch which repository. The engine's source fetcher asks for a
 * token by clone URL only (workspace/ knows nothing of installations); the App answers for the
 * clone URLs it has dispatched runs on, with the token of the installation that received the
 * event (for a fork's pull request: the base repository's installation, which can read a public
 * fork), and never for a URL on another host than the App's GitHub. Tokens come from the same
 * installation clients the App's API calls use (one cache, renewed before expiry); nothing here
 * stores or logs them.
 */

/** Mints (or returns the cached) installation token; never logged. */
export type InstallationTokenFn = (installationId: number) => Promise<string>;

export class SourceAccess {
  readonly #gitOrigin: string;
  readonly #installations = new Map<string, number>();
  #mint: InstallationTokenFn | undefined;

  /** `apiBaseUrl`: the App's GitHub API (`https://api.github.com`, a GHES `/api/v3`, the stand-in). */
  constructor(apiBaseUrl: string) {
    this.#gitOrigin = gitOriginOf(apiBaseUrl);
  }

  /** Set once the App's installation clients exist (they are built after the runtime). */
  useMinter(mint: InstallationTokenFn): void {
    this.#mint = mint;
  }

  /** A run of this installation fetches `cloneUrl` (new, retried, re-run or resumed runs). */
  allow(cloneUrl: string, installationId: number): void {
    if (sameOrigin(cloneUrl, this.#gitOrigin)) this.#installations.set(cloneUrl, installationId);
  }

  /**
   * The token for `cloneUrl`, or undefined (an anonymous fetch) for a URL no run of this App
   * named or on another host: an installation token must not reach a server that is not GitHub.
   */
  async tokenFor(cloneUrl: string): Promise<string | undefined> {
    const installationId = this.#installations.get(cloneUrl);
    if (installationId === undefined || !this.#mint || !sameOrigin(cloneUrl, this.#gitOrigin))
      return undefined;
    return this.#mint(installationId);
  }
}

/** github.com's API is on api.github.com, its git on github.com; GHES and the stand-in share a host. */
export function gitOriginOf(apiBaseUrl: string): string {
  const url = new URL(apiBaseUrl);
  if (url.hostname === 'api.github.com') return 'https://github.com';
  return url.origin;
}

function sameOrigin(location: string, origin: string): boolean {
  try {
    return new URL(location).origin === origin;
  } catch {
    return false;
  }
}
