// Where the statements go. A PostgreSQL URL with a password is a secret: it must come from the
// environment (`env: { DATABASE_URL: ${secrets.DB_URL} }`), which the runner redacts, never from
// `with:`, which the plan stores. So a `url` holding a password is refused, and no message here
// ever quotes a URL: only its host, port and database. Beyond loopback the URL must ask for
// verified TLS: a server (or whoever is on the path) may ask for the password in clear.
import { isLoopbackHost } from '../../core/index.ts';
import { TaskError, workspaceFile, type TaskContext } from '../../sdk/index.ts';

export interface DbInputs {
  driver: 'postgres' | 'sqlite';
  url?: string;
  urlSecret?: string;
}

export type Target =
  | { driver: 'postgres'; url: string; describe: string }
  | { driver: 'sqlite'; file: string; describe: string };

export function resolveTarget(inputs: DbInputs, ctx: Pick<TaskContext, 'secret' | 'workspace'>): Target {
  if (inputs.driver === 'sqlite') {
    const path = inputs.url as string; // validate() made it required for sqlite
    return { driver: 'sqlite', file: workspaceFile(ctx.workspace, path, '/url'), describe: `sqlite ${path}` };
  }
  const from = inputs.url === undefined ? (inputs.urlSecret ?? 'DATABASE_URL') : undefined;
  const text = from === undefined ? (inputs.url as string) : ctx.secret(from);
  const where = from === undefined ? '/url' : `the secret ${from}`;
  const url = parsePostgresUrl(text, where);
  if (from === undefined && url.password !== '')
    throw new TaskError(
      'db_password_in_inputs',
      '/url holds a password, which with: would store with the plan',
      {
        hint: 'pass the URL as a secret: env: { DATABASE_URL: ${secrets.DB_URL} } and leave url out (or name the variable in urlSecret)',
      },
    );
  refuseCredentialsInClear(url, process.env);
  const database = decodeURIComponent(url.pathname.slice(1)) || '(default database)';
  return {
    driver: 'postgres',
    url: text,
    describe: `postgres ${url.hostname}:${url.port || 5432}/${database}`,
  };
}

/**
 * PostgreSQL lets the server choose how the client proves itself, cleartext password included,
 * and `pg` answers whatever it is asked with the URL's password, PGPASSWORD or a .pgpass entry:
 * to a host beyond loopback (or a Unix socket) the URL must ask for TLS with a verified
 * certificate, which `pg` sets up before any authentication, or the task refuses.
 */
function refuseCredentialsInClear(url: URL, env: NodeJS.ProcessEnv): void {
  const host =
    url.searchParams.get('host') ?? (decodeURIComponent(url.hostname) || env.PGHOST || 'localhost');
  if (host.startsWith('/') || isLoopbackHost(host) || verifiedTls(url.searchParams, env)) return;
  throw new TaskError(
    'credential_in_clear',
    `the PostgreSQL credentials would go to ${host} in clear: the URL asks for no verified TLS`,
    {
      hint: 'add ?sslmode=verify-full to the URL (the certificate checked against the system roots, or sslrootcert); plain text only to a loopback address or a Unix socket',
    },
  );
}

/** Whether `pg` (not in libpq-compatible mode) will speak TLS and check the certificate. */
function verifiedTls(query: URLSearchParams, env: NodeJS.ProcessEnv): boolean {
  const mode = query.get('sslmode');
  const libpq = query.get('uselibpqcompat') === 'true';
  if (mode !== null)
    return (
      mode === 'verify-full' || mode === 'verify-ca' || (!libpq && (mode === 'require' || mode === 'prefer'))
    );
  const ssl = query.get('ssl');
  if (ssl !== null) return ssl === 'true' || ssl === '1';
  if (['sslcert', 'sslkey', 'sslrootcert'].some((name) => query.has(name))) return true;
  return ['prefer', 'require', 'verify-ca', 'verify-full'].includes(env.PGSSLMODE ?? '');
}

function parsePostgresUrl(text: string, where: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not the text itself: from a secret, it may be the password alone, pasted in the wrong place.
    throw new TaskError('db_url_invalid', `${where} is not a URL`, {
      hint: 'give postgres://user@host:5432/database (the password only in a secret)',
    });
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')
    throw new TaskError(
      'db_url_invalid',
      `${where} is a ${url.protocol.replace(/:$/, '')} URL, not postgres:// or postgresql://`,
      {
        hint: 'give postgres://user@host:5432/database',
      },
    );
  return url;
}
