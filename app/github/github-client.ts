import type { ProbotOctokit } from 'probot';
import type { Clock } from '../../core/index.ts';
import { GitHubCallError } from '../errors.ts';

export type Octokit = InstanceType<typeof ProbotOctokit>;

export interface GitHubClientOptions {
  owner: string;
  repo: string;
  installationId: number;
  /** An installation-authenticated Octokit; `fresh` asks for a newly minted token. */
  authenticate: (fresh: boolean) => Promise<Octokit>;
  clock: Clock;
  /** Attempts per call, including the first (default 5). */
  attempts?: number;
  /** First backoff in ms (default 200), doubled per attempt, capped at 30 s. */
  backoffMs?: number;
}

interface HttpishError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined> };
}

/**
 * One repository's view of GitHub for one delivery, with the app's single retry policy:
 * 5xx and network errors back off exponentially; 403/429 secondary rate limits wait for
 * `retry-after` (or a minute when GitHub gives none, capped); a 401 (an installation token that
 * expired or was revoked) mints a fresh token once and retries. Anything else is the caller's.
 */
export class GitHubClient {
  readonly owner: string;
  readonly repo: string;
  readonly installationId: number;
  readonly #options: GitHubClientOptions;
  #octokit: Octokit | undefined;

  constructor(options: GitHubClientOptions) {
    this.#options = options;
    this.owner = options.owner;
    this.repo = options.repo;
    this.installationId = options.installationId;
  }

  get fullName(): string {
    return `${this.owner}/${this.repo}`;
  }

  async call<T>(label: string, fn: (octokit: Octokit) => Promise<T>): Promise<T> {
    const attempts = this.#options.attempts ?? 5;
    let delay = this.#options.backoffMs ?? 200;
    let refreshed = false;
    for (let attempt = 1; ; attempt += 1) {
      this.#octokit ??= await this.#options.authenticate(false);
      try {
        return await fn(this.#octokit);
      } catch (error) {
        const e = error as HttpishError;
        const wait = this.#retryDelay(e, delay, refreshed);
        if (wait === undefined || attempt >= attempts)
          throw new GitHubCallError(
            `GitHub ${label} failed: ${e.status ?? ''} ${e.message ?? String(error)}`.trim(),
            {
              cause: error,
              retryable: wait !== undefined,
              details: { status: e.status },
            },
          );
        if (e.status === 401) {
          refreshed = true;
          this.#octokit = await this.#options.authenticate(true);
        }
        await this.#options.clock.sleep(wait);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  #retryDelay(error: HttpishError, delay: number, refreshed: boolean): number | undefined {
    const status = error.status;
    if (status === undefined || status >= 500) return delay;
    if (status === 401) return refreshed ? undefined : 0;
    if (status === 403 || status === 429) {
      const headers = error.response?.headers ?? {};
      const retryAfter = Number(headers['retry-after']);
      const secondary = /secondary rate limit/i.test(error.message ?? '') || status === 429;
      if (Number.isFinite(retryAfter) && retryAfter >= 0) return Math.min(retryAfter * 1000, 120_000);
      if (secondary) return 60_000;
      if (headers['x-ratelimit-remaining'] === '0') {
        const reset = Number(headers['x-ratelimit-reset']) * 1000;
        return Math.min(Math.max(reset - this.#options.clock.now(), 1000), 120_000);
      }
    }
    return undefined;
  }
}
