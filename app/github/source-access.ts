/**
 * Which installation token may fetch which repository, decided from the run a fetch is for. The
 * engine's source fetcher asks for a token by clone URL and run id (workspace/ knows nothing of
 * installations); the answer is derived from what is stored about that run, so any replica that
 * executes it (its dispatcher, one that resumes it after the dispatcher died, a worker that claims
 * it) answers the same, and nothing depends on one process's memory:
 *
 * - the App's dispatch record of the run (`AppStore.getRun`: written with the dispatch, before the
 *   engine created the run) names the installation whose event started it (for a fork's pull
 *   request: the base repository's, which can read a public fork); a run the App did not dispatch
 *   (one posted to the REST API naming the same clone URL) gets no token;
 * - the engine's stored run names the clone URLs: its source, and the locked catalogs its plan
 *   names (the plan digest covers them), and only those on the App's own GitHub host.
 *
 * Tokens come from the same installation clients the App's API calls use (one cache, renewed
 * before expiry); nothing here stores or logs them, and a task never sees one (git gets it in its
 * environment; a runner's pod gets the header as a redacted secret).
 */
import type { Plan, RunSource, SourceContext } from '../../core/index.ts';

/** Mints (or returns the cached) installation token; never logged. */
export type InstallationTokenFn = (installationId: number) => Promise<string>;

/** What is stored about one run: whose installation dispatched it, and what it fetches. */
export interface RunFetchRecord {
  installationId: number;
  source: RunSource | null;
  plan: Pick<Plan, 'tasks'>;
}

/** The stored records of a run, or undefined when the App did not dispatch it. */
export type RunFetchLookup = (runId: string) => Promise<RunFetchRecord | undefined>;

export class SourceAccess {
  readonly #gitOrigin: string;
  #mint: InstallationTokenFn | undefined;
  #runs: RunFetchLookup | undefined;

  /** `apiBaseUrl`: the App's GitHub API (`https://api.github.com`, a GHES `/api/v3`, the stand-in). */
  constructor(apiBaseUrl: string) {
    this.#gitOrigin = gitOriginOf(apiBaseUrl);
  }

  /** Set once the App's installation clients exist (they are built after the runtime). */
  useMinter(mint: InstallationTokenFn): void {
    this.#mint = mint;
  }

  /** Set once the App's store is open (it opens after the runtime). */
  useRuns(lookup: RunFetchLookup): void {
    this.#runs = lookup;
  }

  /**
   * The token for `cloneUrl` in run `context.runId`, or undefined (an anonymous fetch): for a run
   * the App did not dispatch, a URL that run does not fetch, or one on another host than the
   * App's GitHub (an installation token must not reach a server that is not GitHub).
   */
  async tokenFor(cloneUrl: string, context?: SourceContext): Promise<string | undefined> {
    if (!context || !this.#runs || !this.#mint || !sameOrigin(cloneUrl, this.#gitOrigin)) return undefined;
    const run = await this.#runs(context.runId);
    if (!run || !fetchedBy(run).includes(cloneUrl)) return undefined;
    return this.#mint(run.installationId);
  }
}

/** The clone URLs a run fetches: its source, and the repositories of its locked catalog tasks. */
export function fetchedBy(run: Pick<RunFetchRecord, 'source' | 'plan'>): string[] {
  const urls = run.source?.kind === 'git' ? [run.source.repo] : [];
  for (const task of run.plan.tasks)
    if (task.action.type === 'catalog' && task.action.source) urls.push(task.action.source.url);
  return urls;
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
