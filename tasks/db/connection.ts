// Where the statements go. A PostgreSQL URL with a password is a secret: it must come from the
// environment (`env: { DATABASE_URL: ${secrets.DB_URL} }`), which the runner redacts, never from
// `with:`, which the plan stores. So a `url` holding a password is refused, and no message here
// ever quotes a URL: only its host, port and database.
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
  const database = decodeURIComponent(url.pathname.slice(1)) || '(default database)';
  return {
    driver: 'postgres',
    url: text,
    describe: `postgres ${url.hostname}:${url.port || 5432}/${database}`,
  };
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
