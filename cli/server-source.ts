/**
 * The source `maestro run --server` sends with the manifest (POST /v1/workflows's `source`):
 * `{repo, sha}` of the clean git checkout holding the manifest, so the server records which
 * commit, in which repository, the workflow it stores came from. What it refuses, and why: a
 * working tree with uncommitted changes to tracked files, or a manifest that is not committed
 * (the commit recorded would not hold what is run); a repository without a remote, or a commit on
 * no branch of that remote (nobody reading the record could find the commit). The remote's URL
 * is sent without credentials: it is stored by the server and shown by its API. Outside a git
 * repository nothing is sent, as before. And a workflow whose tasks are this checkout's own
 * (`uses: ./.maestro/tasks/<name>`) is refused whatever the checkout: they are files the server
 * does not have. The server's run gets no checkout of the source: the API
 * does not fetch a repository a client names (docs/server.md).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { dirname, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { UsageError, type ApiBody } from '../core/index.ts';
import type { CliIo } from './io.ts';

const run = promisify(execFile);
const LOCALLY = 'or run it locally without --server (its tasks then see the committed state)';

export interface ServerSource {
  source: ApiBody.SourceRef;
  /** One line for stderr, as a local run prints where its source comes from. */
  note: string;
}

async function git(cwd: string, io: CliIo, args: string[]): Promise<string | undefined> {
  try {
    const env = { PATH: io.env.PATH ?? '/usr/bin:/bin', HOME: io.env.HOME ?? cwd, LANG: 'C' };
    return (await run('git', args, { cwd, env, encoding: 'utf8' })).stdout.trim();
  } catch {
    return undefined;
  }
}

/** The remote's URL as the server may store it: an URL's user and password dropped. */
export function withoutCredentials(url: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return url;
  }
}

/**
 * Refuses a manifest whose tasks are folders of this checkout: the server compiles it without
 * them (MS4008, whose hint, `--source`, `--server` refuses) and its run would have none.
 */
export function refuseRepositoryTasks(manifest: string, io: CliIo): void {
  let doc: unknown;
  try {
    doc = load(readFileSync(resolve(io.cwd, manifest), 'utf8'));
  } catch {
    return; // the server's diagnostics say what is wrong with it, as a local compile's would
  }
  const tasks = (doc as { spec?: { tasks?: unknown } } | null)?.spec?.tasks;
  for (const task of Array.isArray(tasks) ? (tasks as unknown[]) : []) {
    const { id, uses } = (task ?? {}) as { id?: unknown; uses?: unknown };
    if (typeof uses === 'string' && uses.startsWith('./'))
      throw new UsageError(
        `${manifest}: task ${String(id)} uses ${uses}, a task folder of this checkout, which the server does not have`,
        { hint: 'run it locally without --server, or publish the task in a catalog and use it from there' },
      );
  }
}

/** `{repo, sha}` for the manifest's checkout, undefined outside git; refusals are UsageErrors. */
export async function serverSourceOf(manifest: string, io: CliIo): Promise<ServerSource | undefined> {
  refuseRepositoryTasks(manifest, io);
  const file = resolve(io.cwd, manifest);
  const dir = dirname(file);
  const top = await git(dir, io, ['rev-parse', '--show-toplevel']);
  if (top === undefined) return undefined;
  const sha = await git(dir, io, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  if (!sha)
    throw new UsageError(`${top} has no commit yet`, { hint: `commit the manifest first, ${LOCALLY}` });
  await refuseChanges(top, file, sha, io);
  const remote = await remoteOf(top, io);
  const url = remote && (await git(top, io, ['remote', 'get-url', remote]));
  if (!remote || !url)
    throw new UsageError(
      `${top} has no remote, so the server cannot record where commit ${sha.slice(0, 12)} lives`,
      {
        hint: `add one (git remote add origin https://…) and push, ${LOCALLY}`,
      },
    );
  const onRemote = await git(top, io, [
    'for-each-ref',
    '--count=1',
    '--contains',
    sha,
    `refs/remotes/${remote}/`,
  ]);
  if (!onRemote)
    throw new UsageError(
      `commit ${sha.slice(0, 12)} is on no branch of the remote ${remote} (${withoutCredentials(url)})`,
      {
        hint: `push it first, ${LOCALLY}`,
      },
    );
  const repo = withoutCredentials(url);
  return {
    source: { repo, sha },
    note: `source: ${repo} at ${sha.slice(0, 12)} (HEAD), recorded with the workflow; the server's run gets no checkout of it`,
  };
}

async function refuseChanges(top: string, file: string, sha: string, io: CliIo): Promise<void> {
  const path = relative(top, file);
  if ((await git(top, io, ['ls-files', '--error-unmatch', '--', path])) === undefined)
    throw new UsageError(
      `${path} is not committed in ${top}, so commit ${sha.slice(0, 12)} does not hold it`,
      {
        hint: `commit it, ${LOCALLY}`,
      },
    );
  // Staged and unstaged changes to tracked files (untracked files are not in the commit either
  // way, and a local run leaves them out too).
  const status = await git(top, io, ['diff', '--name-only', 'HEAD', '--']);
  if (!status) return;
  const changed = status.split('\n');
  const listed =
    changed.slice(0, 5).join(', ') + (changed.length > 5 ? `, and ${changed.length - 5} more` : '');
  throw new UsageError(
    `${top} has uncommitted changes (${listed}): the server would record commit ${sha.slice(0, 12)}, which does not hold them`,
    { hint: `commit and push them, or stash them, ${LOCALLY}` },
  );
}

/** The current branch's upstream remote, else `origin` when there is one. */
async function remoteOf(top: string, io: CliIo): Promise<string | undefined> {
  const branch = await git(top, io, ['symbolic-ref', '--quiet', 'HEAD']);
  const named = branch && (await git(top, io, ['for-each-ref', '--format=%(upstream:remotename)', branch]));
  if (named) return named;
  const remotes = (await git(top, io, ['remote']))?.split('\n').filter(Boolean) ?? [];
  return remotes.includes('origin') ? 'origin' : remotes.length === 1 ? remotes[0] : undefined;
}
