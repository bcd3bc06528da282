/**
 * Registry credentials as Docker, Podman, skopeo and cosign find them: the `auths` of one auth
 * file (`REGISTRY_AUTH_FILE`, else `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`),
 * and credential helpers (`credHelpers` per registry, `credsStore` for the rest) run as
 * `docker-credential-<name> get` with the registry on stdin, as the docker-credential-helpers
 * protocol says. Read by hand because no well-kept npm package reads this file and its helpers;
 * the format is small and stable.
 *
 * Identity tokens (`identitytoken`, an OAuth2 refresh token) are not exchanged: such an entry is
 * skipped, so the registry is asked anonymously (docs/supply-chain.md).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError } from '../../core/index.ts';

export interface BasicCredentials {
  username: string;
  password: string;
}

/** The credentials to send to one registry (`host[:port]`), or undefined: anonymous. */
export type CredentialLookup = (registry: string) => Promise<BasicCredentials | undefined>;

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

interface AuthFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** How a credential helper is run (injectable so a test can count the calls). */
export type HelperRunner = (program: string, stdin: string, env?: NodeJS.ProcessEnv) => Promise<string>;

export interface DockerConfigOptions {
  /** The auth file to read (registryAuthFile). Missing: no credentials, no error. */
  file: string;
  /** The helpers' environment (PATH finds them): the surface's, never read here. */
  env?: Record<string, string | undefined>;
  runHelper?: HelperRunner;
}

/**
 * The one auth file the tools would read, from the environment given (never read here: only the
 * surfaces read the environment). REGISTRY_AUTH_FILE wins, as it does for Podman and skopeo.
 */
export function registryAuthFile(env: Record<string, string | undefined>, home: string): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  return join(env.DOCKER_CONFIG || join(home, '.docker'), 'config.json');
}

/** `https://index.docker.io/v1/` and `registry.example:5000/v2` both name their host. */
function hostOf(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return ['index.docker.io', 'registry-1.docker.io'].includes(host) ? 'docker.io' : host;
}

const runProgram: HelperRunner = (program, stdin, env) =>
  new Promise((resolve, reject) => {
    const options = { timeout: 30_000, maxBuffer: 1 << 20, ...(env ? { env } : {}) };
    const child = execFile(program, ['get'], options, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
    child.stdin?.end(stdin);
  });

export function dockerConfigCredentials(options: DockerConfigOptions): CredentialLookup {
  const runHelper = options.runHelper ?? runProgram;
  let loaded: Promise<AuthFile> | undefined;
  const cache = new Map<string, Promise<BasicCredentials | undefined>>();

  async function load(): Promise<AuthFile> {
    let text: string;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    try {
      const parsed = JSON.parse(text) as unknown;
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
        throw new Error('not an object');
      return parsed as AuthFile;
    } catch (cause) {
      throw new InputError('registry_auth_invalid', `${options.file} is not a JSON auth file`, {
        cause,
        hint: 'fix or remove the file (docker login / podman login write it), or set REGISTRY_AUTH_FILE',
      });
    }
  }

  function fromEntry(registry: string, entry: AuthEntry): BasicCredentials | undefined {
    if (entry.username !== undefined && entry.password !== undefined)
      return { username: entry.username, password: entry.password };
    if (!entry.auth) return undefined;
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0)
      throw new InputError(
        'registry_auth_invalid',
        `${options.file}: the auth of ${registry} is not user:password`,
        {
          hint: `log in to ${registry} again`,
        },
      );
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }

  async function fromHelper(registry: string, helper: string): Promise<BasicCredentials | undefined> {
    let out: string;
    try {
      out = await runHelper(`docker-credential-${helper}`, registry, options.env);
    } catch {
      // "credentials not found" is a non-zero exit too; a helper that cannot answer means
      // anonymous, and the registry's 401 then names the registry.
      return undefined;
    }
    const answer = JSON.parse(out) as { Username?: string; Secret?: string };
    if (!answer.Secret || answer.Username === '<token>') return undefined;
    return { username: answer.Username ?? '', password: answer.Secret };
  }

  async function lookup(registry: string): Promise<BasicCredentials | undefined> {
    const file = await (loaded ??= load());
    const host = hostOf(registry);
    const helper = Object.entries(file.credHelpers ?? {}).find(([key]) => hostOf(key) === host)?.[1];
    if (helper) return fromHelper(host, helper);
    const entry = Object.entries(file.auths ?? {}).find(([key]) => hostOf(key) === host)?.[1];
    const found = entry ? fromEntry(host, entry) : undefined;
    if (found) return found;
    return file.credsStore ? fromHelper(host, file.credsStore) : undefined;
  }

  return (registry) => {
    let answer = cache.get(registry);
    if (!answer) cache.set(registry, (answer = lookup(registry)));
    return answer;
  };
}
