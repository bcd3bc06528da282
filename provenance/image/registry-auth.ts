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
 *
 * A helper is another program holding a secret of its own: it gets a minimal environment
 * (credentialHelperEnv), never the server's (signing key paths, the App's secrets, tokens), and
 * what it prints is never quoted in an error (invalid output may be the secret itself). Answers
 * are cached per registry; failures are not (a helper or file that failed once is asked again).
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
  /**
   * The surface's environment (never read here), of which helpers get only credentialHelperEnv's
   * names (PATH finds them). Absent: helpers get an empty environment.
   */
  env?: Record<string, string | undefined>;
  runHelper?: HelperRunner;
}

/**
 * What a credential helper needs to find its store, and nothing else: PATH, HOME and the user's
 * name, locale and temp folder; where Docker's and the desktop's configuration live
 * (DOCKER_CONFIG, XDG_CONFIG_HOME, XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS for secretservice);
 * pass's store (PASSWORD_STORE_DIR, GNUPGHOME). Cloud helpers' own credentials (AWS_*, GOOGLE_*,
 * AZURE_*) are not passed unless the operator names them in MAESTRO_CREDENTIAL_HELPER_ENV
 * (comma-separated): the same environment may hold other services' keys.
 */
export const CREDENTIAL_HELPER_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'TMPDIR',
  'DOCKER_CONFIG',
  'XDG_CONFIG_HOME',
  'XDG_RUNTIME_DIR',
  'DBUS_SESSION_BUS_ADDRESS',
  'PASSWORD_STORE_DIR',
  'GNUPGHOME',
] as const;

/** The helpers' environment from the surface's: CREDENTIAL_HELPER_ENV and the operator's extra names. */
export function credentialHelperEnv(env: Record<string, string | undefined>): Record<string, string> {
  const extra = (env.MAESTRO_CREDENTIAL_HELPER_ENV ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(n) && !n.startsWith('MAESTRO_'));
  const out: Record<string, string> = {};
  for (const name of [...CREDENTIAL_HELPER_ENV, ...extra]) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
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
    // A helper that exits without reading stdin must not crash the server (EPIPE on the pipe).
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(stdin);
  });

export function dockerConfigCredentials(options: DockerConfigOptions): CredentialLookup {
  const runHelper = options.runHelper ?? runProgram;
  const helperEnv = credentialHelperEnv(options.env ?? {});
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
    const program = `docker-credential-${helper}`;
    let out: string;
    try {
      out = await runHelper(program, registry, helperEnv);
    } catch {
      // "credentials not found" is a non-zero exit too; a helper that cannot answer means
      // anonymous, and the registry's 401 then names the registry. Not cached: asked again.
      throw new HelperFailed();
    }
    let answer: { Username?: unknown; Secret?: unknown };
    try {
      answer = JSON.parse(out) as typeof answer;
      if (answer === null || typeof answer !== 'object') throw new Error('not an object');
    } catch {
      // Never the output, nor JSON.parse's message (which quotes it): it may be the secret.
      throw new InputError(
        'registry_helper_invalid',
        `${program} answered for ${registry} with output that is not JSON`,
        {
          hint: `check that \`echo ${registry} | ${program} get\` prints {"Username":…,"Secret":…}`,
        },
      );
    }
    if (typeof answer.Secret !== 'string' || !answer.Secret || answer.Username === '<token>')
      return undefined;
    return { username: typeof answer.Username === 'string' ? answer.Username : '', password: answer.Secret };
  }

  async function lookup(registry: string): Promise<BasicCredentials | undefined> {
    const file = await (loaded ??= load().catch((error: unknown) => {
      loaded = undefined; // an unreadable or broken file is read again next time
      throw error;
    }));
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
    if (!answer) {
      answer = lookup(registry).catch((error: unknown) => {
        cache.delete(registry); // a failure is not an answer: the next lookup asks again
        if (error instanceof HelperFailed) return undefined;
        throw error;
      });
      cache.set(registry, answer);
    }
    return answer;
  };
}

/** A helper that exited non-zero or could not be run: anonymous this time, asked again next. */
class HelperFailed extends Error {}
