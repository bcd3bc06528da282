/**
 * A cached bare mirror per remote repository, under `<data-dir>/sources/mirrors/`. Fetches name
 * the URL on the command line (no remote is configured, so no URL is stored in the mirror's
 * config) and carry the token only in the git process's environment (source-git.ts). Fetched
 * commits are pinned under `refs/maestro/` so a later `gc` cannot drop them.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { publish, temporaryBeside } from './atomic-dir.ts';
import { SourceFetchError, SourceRefUnknownError } from './source-errors.ts';
import { gitFor, scrubToken, type GitBaseEnv } from './source-git.ts';
import { checkRemoteUrl } from './source-url.ts';

const COMMIT = /^[0-9a-f]{40}$/;

export function mirrorDir(dataDir: string, url: string): string {
  const key = createHash('sha256').update(url).digest('hex').slice(0, 32);
  return join(dataDir, 'sources', 'mirrors', `${key}.git`);
}

/** Creates the bare mirror whole (init under a temporary name, then renamed into place). */
async function ensureMirror(dir: string, baseEnv: GitBaseEnv | undefined): Promise<void> {
  if (existsSync(join(dir, 'HEAD'))) return;
  const tmp = temporaryBeside(dir);
  mkdirSync(tmp);
  try {
    await gitFor({ cwd: tmp, isolated: true, ...(baseEnv ? { baseEnv } : {}) }).raw([
      'init',
      '--bare',
      '--quiet',
    ]);
    publish(tmp, dir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Fetches into one mirror run one after another in this process: two runs of one commit would
 * otherwise race for the same pin's ref lock. Another process fetching at the same moment can
 * still take the lock first; fetchIntoMirror then finds the commit it wanted already there.
 */
const mirrorQueues = new Map<string, Promise<unknown>>();
function oneAtATime<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const previous = mirrorQueues.get(dir) ?? Promise.resolve();
  const next = previous.then(work, work);
  const settled = next.catch(() => undefined);
  mirrorQueues.set(dir, settled);
  void settled.then(() => {
    if (mirrorQueues.get(dir) === settled) mirrorQueues.delete(dir);
  });
  return next;
}

/** Fetches into each mirror since its last upkeep, in this process. */
const fetchesSince = new Map<string, number>();
const UPKEEP_EVERY = 100;

/**
 * git's own auto-maintenance is off in the mirrors (maintenance.auto=false, source-git.ts), or
 * every fetch would spawn `git maintenance run --auto` on a push's path. Instead, every
 * UPKEEP_EVERY fetches the mirror's pins are packed (thousands of loose refs slow every fetch's
 * connectivity check) and `gc --auto` runs by git's own thresholds, queued after the fetch
 * that counted, not awaited by its runs. A failure is only a missed clean-up: the next one retries.
 */
function afterFetch(dir: string, baseEnv: GitBaseEnv | undefined): void {
  const count = (fetchesSince.get(dir) ?? 0) + 1;
  if (count < UPKEEP_EVERY) return void fetchesSince.set(dir, count);
  fetchesSince.set(dir, 0);
  const git = gitFor({ cwd: dir, isolated: true, ...(baseEnv ? { baseEnv } : {}) });
  void oneAtATime(dir, async () => {
    await git.raw(['pack-refs', '--all']);
    await git.raw(['gc', '--auto', '--quiet']);
  }).catch(() => undefined);
}

async function hasCommit(dir: string, commit: string, baseEnv: GitBaseEnv | undefined): Promise<boolean> {
  try {
    await gitFor({ cwd: dir, isolated: true, ...(baseEnv ? { baseEnv } : {}) }).raw([
      'cat-file',
      '-e',
      `${commit}^{commit}`,
    ]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure the mirror of `url` holds `want` (a commit, or a ref to resolve) and returns the
 * commit. A commit already in the mirror costs no network round trip. Commits wanted while a
 * fetch into the same mirror runs are fetched together by the next one (fetchCommit).
 */
export async function fetchIntoMirror(options: {
  dataDir: string;
  url: string;
  want: string;
  token?: string;
  /** The Basic user the token goes as (default `x-access-token`). */
  username?: string;
  baseEnv?: GitBaseEnv;
  /** What to tell the user when the fetch fails (the CLI: where a catalog's credential comes from). */
  failureHint?: string;
}): Promise<{ dir: string; commit: string }> {
  const url = checkRemoteUrl(options.url).href;
  const dir = mirrorDir(options.dataDir, url);
  if (COMMIT.test(options.want)) return { dir, commit: await fetchCommit(dir, url, options) };
  return oneAtATime(dir, async () => {
    await ensureMirror(dir, options.baseEnv);
    return {
      dir,
      commit: await fetchWanted(dir, url, options).finally(() => afterFetch(dir, options.baseEnv)),
    };
  });
}

type FetchOptions = {
  want: string;
  token?: string;
  username?: string;
  baseEnv?: GitBaseEnv;
  failureHint?: string;
};

/** Commits wanted from one mirror with one token, not yet being fetched. */
interface Batch {
  commits: Set<string>;
  /** Per commit: undefined once it is in the mirror, or why it could not be fetched. */
  done: Promise<Map<string, Error | undefined>>;
}
const openBatches = new Map<string, Batch>();
/** Refspecs on one command line at most (a longer batch waits for the next fetch). */
const MAX_BATCH = 200;

/**
 * Pushes at 10/s to one repository each want a new commit while the previous fetch is running;
 * one after another they queued behind the mirror (bench/webhooks push-to-task: 3.6 first tasks/s).
 * So every commit wanted while the mirror is busy joins one batch, fetched by one `git fetch` with
 * a refspec per commit, each pinned under its own name. Only wants with the same token and
 * environment share a batch: a run's commit is never fetched with another installation's token.
 */
function fetchCommit(dir: string, url: string, options: FetchOptions): Promise<string> {
  const key = JSON.stringify([
    dir,
    options.token ?? null,
    options.username ?? null,
    options.baseEnv ?? null,
    options.failureHint ?? null,
  ]);
  let batch = openBatches.get(key);
  if (!batch || batch.commits.size >= MAX_BATCH) {
    const commits = new Set<string>();
    const created: Batch = {
      commits,
      done: oneAtATime(dir, async () => {
        if (openBatches.get(key) === created) openBatches.delete(key);
        await ensureMirror(dir, options.baseEnv);
        return fetchCommits(dir, url, [...commits], options).finally(() => afterFetch(dir, options.baseEnv));
      }),
    };
    openBatches.set(key, created);
    batch = created;
  }
  batch.commits.add(options.want);
  return batch.done.then((failures) => {
    const failure = failures.get(options.want);
    if (failure) throw failure;
    return options.want;
  });
}

async function fetchCommits(
  dir: string,
  url: string,
  commits: string[],
  options: FetchOptions,
): Promise<Map<string, Error | undefined>> {
  const results = new Map<string, Error | undefined>();
  const one = async (commit: string) => {
    try {
      await fetchWanted(dir, url, { ...options, want: commit });
      results.set(commit, undefined);
    } catch (error) {
      results.set(commit, error as Error);
    }
  };
  // Alone, or when the batch's fetch fails: each commit as before, so each gets its own error.
  if (commits.length === 1) return (await one(commits[0]!), results);
  const present = await commitsIn(dir, commits, options.baseEnv);
  const missing = commits.filter((c) => !present.has(c));
  for (const c of present) results.set(c, undefined);
  if (missing.length === 0) return results;
  const git = mirrorGit(dir, options);
  try {
    const refspecs = missing.map((c) => `+${c}:refs/maestro/commits/${c}`);
    await git.raw(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', url, ...refspecs]);
    // Each pin must name a commit (as fetchWanted's rev-parse checks one by one).
    await git.raw([
      'rev-parse',
      '--verify',
      '--quiet',
      ...missing.map((c) => `refs/maestro/commits/${c}^{commit}`),
    ]);
    for (const c of missing) results.set(c, undefined);
  } catch {
    for (const c of missing) await one(c);
  }
  return results;
}

/** Which of `commits` the mirror already holds, with one git process. */
async function commitsIn(
  dir: string,
  commits: string[],
  baseEnv: GitBaseEnv | undefined,
): Promise<Set<string>> {
  try {
    const out = await gitFor({ cwd: dir, isolated: true, ...(baseEnv ? { baseEnv } : {}) }).raw([
      'rev-list',
      '--no-walk',
      '--ignore-missing',
      ...commits.map((c) => `${c}^{commit}`),
    ]);
    return new Set(out.split('\n').filter((line) => commits.includes(line)));
  } catch {
    return new Set();
  }
}

/** git in the mirror with the want's credential (in git's environment only) and environment. */
function mirrorGit(dir: string, options: FetchOptions) {
  return gitFor({
    cwd: dir,
    isolated: true,
    ...(options.token ? { token: options.token } : {}),
    ...(options.username ? { username: options.username } : {}),
    ...(options.baseEnv ? { baseEnv: options.baseEnv } : {}),
  });
}

async function fetchWanted(dir: string, url: string, options: FetchOptions): Promise<string> {
  const git = mirrorGit(dir, options);
  const isCommit = COMMIT.test(options.want);
  if (isCommit && (await hasCommit(dir, options.want, options.baseEnv))) return options.want;
  const pin = isCommit
    ? `refs/maestro/commits/${options.want}`
    : `refs/maestro/wanted/${createHash('sha256').update(options.want).digest('hex').slice(0, 16)}`;
  try {
    await git.raw(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', url, `+${options.want}:${pin}`]);
  } catch (error) {
    // Another process fetched the same commit at the same time and took the pin's lock first.
    if (isCommit && (await hasCommit(dir, options.want, options.baseEnv))) return options.want;
    // git reports a missing ref only in its message; this classifies git's text, not ours.
    const message = scrubToken(
      error instanceof Error ? error.message : String(error),
      options.token,
      options.username,
    );
    if (/couldn't find remote ref|not our ref|unadvertised object|no such remote ref/i.test(message))
      throw new SourceRefUnknownError(url, options.want);
    throw new SourceFetchError(
      url,
      message.trim().split('\n').slice(-2).join(' '),
      options.failureHint ? { hint: options.failureHint } : {},
    );
  }
  return (await git.raw(['rev-parse', `${pin}^{commit}`])).trim();
}
