/**
 * Credentials for a private catalog (or any remote source) the CLI fetches: `maestro tasks lock`,
 * and `maestro run` fetching a locked catalog task. Two places, in this order, as the tools users
 * already use for private modules look them up (Terraform's per-host `TF_TOKEN_<host>`, Go's
 * `GOAUTH=git`):
 *
 * 1. `MAESTRO_CATALOG_TOKEN_<host>` in the environment (CI): the host with `.` written `_` and
 *    `-` written `__` (`MAESTRO_CATALOG_TOKEN_git_example_com`), sent as HTTP Basic
 *    `x-access-token:<token>` (GitHub's form; GitLab, Gitea and Azure DevOps accept any user),
 *    or as `MAESTRO_CATALOG_USER_<host>` when that is set (Bitbucket: `x-token-auth`).
 * 2. The user's own git credential helper (`git credential fill`, with the user's git config:
 *    a keychain, `gh auth setup-git`, `store`): never asked to store or erase anything.
 *
 * Scoped by host: a token is offered only to the host it is named for (a catalogs.yaml pointing
 * at another host gets nothing), and only over https or plain http to a loopback address. The
 * token travels as the fetch's `http.extraHeader` in git's environment (source-git.ts): never in
 * a URL, a config file, the lock, a log line or an error (each scrubbed).
 */
import { execFile } from 'node:child_process';
import { isLoopbackHost } from '../core/index.ts';
import type { GitBaseEnv, GitCredential } from './source-git.ts';

/** The environment variable holding `host`'s catalog token (Terraform's host encoding). */
export function catalogTokenVariable(host: string, kind: 'TOKEN' | 'USER' = 'TOKEN'): string {
  return `MAESTRO_CATALOG_${kind}_${host.toLowerCase().replaceAll('-', '__').replaceAll('.', '_')}`;
}

/** Whether a credential may be offered to `url` at all: https, or http to a loopback address. */
export function mayCarryCredential(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}

export interface CredentialLookup {
  /** The surface's environment (the CLI's `io.env`). */
  env: Record<string, string | undefined>;
  /** PATH and HOME for `git credential fill` (HOME: the user's git config and helper). */
  baseEnv?: GitBaseEnv;
}

/** The credential for `location`, or undefined (then the fetch is anonymous). */
export async function catalogCredentialFor(
  location: string,
  lookup: CredentialLookup,
): Promise<GitCredential | undefined> {
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return undefined; // a local path: no credential
  }
  if (!mayCarryCredential(url) || url.username || url.password) return undefined;
  const token = lookup.env[catalogTokenVariable(url.hostname)];
  if (token)
    return { username: lookup.env[catalogTokenVariable(url.hostname, 'USER')] || 'x-access-token', token };
  return fromCredentialHelper(url, lookup.baseEnv ?? {});
}

/**
 * `git credential fill` for the URL's protocol, host (with port) and path. No prompt can appear
 * (no terminal prompt, an empty askpass, Git Credential Manager non-interactive): nothing found
 * is no credential. Run with execFile, not simple-git: `credential fill` reads its question on
 * stdin, which simple-git does not pass.
 */
function fromCredentialHelper(url: URL, baseEnv: GitBaseEnv): Promise<GitCredential | undefined> {
  const question = [
    `protocol=${url.protocol.slice(0, -1)}`,
    `host=${url.host}`,
    `path=${url.pathname.replace(/^\//, '')}`,
    '',
    '',
  ].join('\n');
  return new Promise((resolve) => {
    const child = execFile(
      'git',
      ['-c', 'credential.interactive=never', 'credential', 'fill'],
      {
        env: {
          PATH: baseEnv.PATH ?? '/usr/local/bin:/usr/bin:/bin',
          HOME: baseEnv.HOME ?? '/nonexistent',
          GIT_TERMINAL_PROMPT: '0',
          GIT_ASKPASS: '',
          GCM_INTERACTIVE: 'never',
        },
        timeout: 30_000,
      },
      (error, stdout) => {
        if (error) return resolve(undefined); // no helper, or it knows nothing for this host
        const fields = new Map(
          stdout
            .split('\n')
            .filter((line) => line.includes('='))
            .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
        );
        const token = fields.get('password');
        resolve(token ? { username: fields.get('username') || 'x-access-token', token } : undefined);
      },
    );
    child.stdin?.end(question);
  });
}
