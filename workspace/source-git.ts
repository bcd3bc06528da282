/**
 * Running git for the source fetcher, through simple-git. Every call gets an explicit, minimal
 * environment: simple-git drops the ambient GIT_* variables and we allow back only the ones set
 * here. A token travels only as an `http.extraHeader` in GIT_CONFIG_* variables of the git
 * process (its environment is readable by its own user only, unlike its command line in
 * /proc/<pid>/cmdline); it is never written to a config file, a remote URL or a log line.
 */
import { createRequire } from 'node:module';
import type * as SimpleGitModule from 'simple-git';
import type { SimpleGit } from 'simple-git';
import { createRedactor } from '../core/index.ts';

export interface GitCallOptions {
  /** Working directory (a repository, or any existing directory for `init`). */
  cwd: string;
  /** An installation token: sent as HTTP Basic `x-access-token:<token>`, as GitHub expects. */
  token?: string;
  /** The Basic user sent with `token` (a catalog credential's): default `x-access-token`. */
  username?: string;
  /**
   * Ignore the user's global and system git config (the App's mirrors: no credential helper,
   * URL rewrite or filter driver of the host may act on a repository we fetch for others).
   */
  isolated?: boolean;
  /** A temporary index for exporting a tree without touching the repository's own index. */
  indexFile?: string;
  /** The work tree to write (an export's temporary folder; a bare mirror has none of its own). */
  workTree?: string;
  /** PATH and HOME for git, passed in by a surface (default: a standard PATH and no HOME). */
  baseEnv?: GitBaseEnv;
}

/** Config set through the environment; `protocol.allow=never` keeps ext::, file:: and ssh out. */
function configEntries(options: GitCallOptions): [string, string][] {
  const entries: [string, string][] = [
    ['protocol.allow', 'never'],
    ['protocol.https.allow', 'always'],
    ['protocol.http.allow', 'always'],
    ['credential.helper', ''],
    ['core.hooksPath', '/dev/null'],
  ];
  // A mirror's fetch would spawn `git maintenance run --auto` on a push's path: the mirror's
  // upkeep runs apart, behind its fetches (source-mirror.ts).
  if (options.isolated) entries.push(['maintenance.auto', 'false']);
  // An export writes the whole tree, whatever sparse checkout the repository's own config sets.
  if (options.workTree !== undefined) entries.push(['core.sparseCheckout', 'false']);
  if (options.token !== undefined)
    entries.push(['http.extraHeader', authorizationHeader(options.token, options.username)]);
  return entries;
}

/**
 * A token and the Basic user to send it as (a catalog host's credential: docs/tasks.md). A bare
 * token string is an installation token, sent as `x-access-token`.
 */
export interface GitCredential {
  username: string;
  token: string;
}

/** Which user a token goes as, and the token: a bare string is GitHub's `x-access-token`. */
export function credentialOf(credential: string | GitCredential): GitCredential {
  return typeof credential === 'string' ? { username: DEFAULT_USER, token: credential } : credential;
}

const DEFAULT_USER = 'x-access-token';

/** The header git sends with a token: HTTP Basic `<username>:<token>` (GitHub: `x-access-token`). */
export function authorizationHeader(token: string, username: string = DEFAULT_USER): string {
  return `Authorization: Basic ${Buffer.from(`${username}:${token}`).toString('base64')}`;
}

/** PATH and HOME from a surface's environment (HOME: the user's safe.directory and identity). */
export interface GitBaseEnv {
  PATH?: string | undefined;
  HOME?: string | undefined;
}

export function gitEnv(options: GitCallOptions): Record<string, string> {
  const base = options.baseEnv ?? {};
  const env: Record<string, string> = {
    PATH: base.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: base.HOME ?? '/nonexistent',
    GIT_TERMINAL_PROMPT: '0',
  };
  if (options.isolated) {
    env.GIT_CONFIG_NOSYSTEM = '1';
    env.GIT_CONFIG_GLOBAL = '/dev/null';
  }
  if (options.indexFile) env.GIT_INDEX_FILE = options.indexFile;
  if (options.workTree) env.GIT_WORK_TREE = options.workTree;
  const entries = configEntries(options);
  env.GIT_CONFIG_COUNT = String(entries.length);
  entries.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  return env;
}

// simple-git (with its dependencies) loads on the first git call, not with workspace/: `maestro
// validate` makes none. scripts/build-action.ts turns requireHere into require to bundle it.
const requireHere = createRequire(import.meta.url);

export function gitFor(options: GitCallOptions): SimpleGit {
  const env = gitEnv(options);
  const { simpleGit } = requireHere('simple-git') as typeof SimpleGitModule;
  return simpleGit({
    baseDir: options.cwd,
    // simple-git guards these settings because a caller could use them to widen what git does;
    // we set only fixed values that narrow it (the entries above): GIT_CONFIG_COUNT keeps the
    // token off the command line and out of config files, protocol.allow=never forbids ext:: and
    // friends, an empty credential.helper stores nothing, hooksPath=/dev/null runs no hook.
    unsafe: {
      allowUnsafeConfigEnvCount: true,
      allowUnsafeProtocolOverride: true,
      allowUnsafeCredentialHelper: true,
      allowUnsafeHooksPath: true,
      // GIT_CONFIG_GLOBAL=/dev/null (isolated mode): the host's config does not apply.
      allowUnsafeConfigPaths: true,
    },
    allowEnvironment: Object.keys(env),
  }).env(env);
}

/**
 * Removes a token (and its Basic form) from a git error message before anyone sees it, with the
 * one redactor every log and stored value goes through.
 */
export function scrubToken(text: string, token: string | undefined, username: string = DEFAULT_USER): string {
  if (!token) return text;
  return createRedactor([token, Buffer.from(`${username}:${token}`).toString('base64')])(text);
}
