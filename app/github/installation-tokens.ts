/**
 * The App's installation tokens, one per installation, for its REST clients and the engine's
 * source fetches alike: minted on first use and again shortly before expiry, or at once after
 * GitHub refused one (`forget`). Concurrent asks for one installation share one mint. Tokens live
 * only in memory and are never logged.
 */
export interface MintedToken {
  token: string;
  /** Epoch milliseconds (GitHub's `expires_at`). */
  expiresAt: number;
}

/** Renew this long before expiry, so a fetch never starts with a token about to lapse. */
const RENEW_BEFORE_MS = 5 * 60_000;

export class InstallationTokens {
  readonly #mint: (installationId: number) => Promise<MintedToken>;
  readonly #now: () => number;
  readonly #tokens = new Map<number, Promise<MintedToken>>();

  constructor(mint: (installationId: number) => Promise<MintedToken>, now: () => number) {
    this.#mint = mint;
    this.#now = now;
  }

  /** Drops the installation's token (GitHub refused it): the next ask mints a new one. */
  forget(installationId: number): void {
    this.#tokens.delete(installationId);
  }

  async token(installationId: number): Promise<string> {
    const known = this.#tokens.get(installationId);
    if (known) {
      const held = await known.catch(() => undefined);
      if (held && held.expiresAt - RENEW_BEFORE_MS > this.#now()) return held.token;
      if (this.#tokens.get(installationId) !== known) return this.token(installationId);
    }
    const minting = this.#mint(installationId);
    this.#tokens.set(installationId, minting);
    try {
      return (await minting).token;
    } catch (error) {
      // A failed mint is not remembered: the next fetch tries again.
      if (this.#tokens.get(installationId) === minting) this.#tokens.delete(installationId);
      throw error;
    }
  }
}
