/**
 * A cached bare mirror per remote repository, under `<data-dir>/sources/mirrors/`. Fetches name
 * the URL on the command line (no remote is configured, so no URL is stored in the mirror's
 * config) and carry the token only in the git process's environment (source-git.ts). Fetched
 * commits are pinned under `refs/maestro/` so a later `gc` cannot drop them.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SourceFetchError, SourceRefUnknownError } from './source-errors.ts';
import { gitFor, scrubToken, type GitBaseEnv } from './source-git.ts';
import { checkRemoteUrl } from './source-url.ts';

const COMMIT = /^[0-9a-f]{40}$/;

export function mirrorDir(dataDir: string, url: string): string {
  const key = createHash('sha256').update(url).digest('hex').slice(0, 32);
  return join(dataDir, 'sources', 'mirrors', `${key}.git`);
}

async function ensureMirror(dir: string, baseEnv: GitBaseEnv | undefined): Promise<void> {
  if (existsSync(join(dir, 'HEAD'))) return;
  mkdirSync(dir, { recursive: true });
  await gitFor({ cwd: dir, isolated: true, ...(baseEnv ? { baseEnv } : {}) }).raw([
    'init',
    '--bare',
    '--quiet',
  ]);
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
 * commit. A commit already in the mirror costs no network round trip.
 */
export async function fetchIntoMirror(options: {
  dataDir: string;
  url: string;
  want: string;
  token?: string;
  baseEnv?: GitBaseEnv;
}): Promise<{ dir: string; commit: string }> {
  const url = checkRemoteUrl(options.url).href;
  const dir = mirrorDir(options.dataDir, url);
  await ensureMirror(dir, options.baseEnv);
  const git = gitFor({
    cwd: dir,
    isolated: true,
    ...(options.token ? { token: options.token } : {}),
    ...(options.baseEnv ? { baseEnv: options.baseEnv } : {}),
  });
  const isCommit = COMMIT.test(options.want);
  if (isCommit && (await hasCommit(dir, options.want, options.baseEnv))) return { dir, commit: options.want };
  const pin = isCommit
    ? `refs/maestro/commits/${options.want}`
    : `refs/maestro/wanted/${createHash('sha256').update(options.want).digest('hex').slice(0, 16)}`;
  try {
    await git.raw(['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', url, `+${options.want}:${pin}`]);
  } catch (error) {
    // git reports a missing ref only in its message; this classifies git's text, not ours.
    const message = scrubToken(error instanceof Error ? error.message : String(error), options.token);
    if (/couldn't find remote ref|not our ref|unadvertised object|no such remote ref/i.test(message))
      throw new SourceRefUnknownError(url, options.want);
    throw new SourceFetchError(url, message.trim().split('\n').slice(-2).join(' '));
  }
  const commit = (await git.raw(['rev-parse', `${pin}^{commit}`])).trim();
  return { dir, commit };
}
