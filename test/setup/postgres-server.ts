/**
 * Starts a real, private PostgreSQL server for one test file: `initdb` + `pg_ctl` from Debian's
 * packages (scripts/setup/system-packages.sh) in a temporary directory, listening on a free port
 * of 127.0.0.1 and a Unix socket inside that directory, with a random password (scram-sha-256,
 * so other local users cannot connect). `stop()` shuts it down and removes the directory.
 * initdb refuses to run as root, so as root the directory is given to the `postgres` user and the
 * binaries run as that user. Fails loudly (never skips) when PostgreSQL is missing.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../helpers/free-port.ts';

const SETUP_HINT = 'run `bash scripts/setup/system-packages.sh` (installs postgresql)';

export interface PostgresServer {
  /** postgres://maestro:<password>@127.0.0.1:<port>/maestro */
  url: string;
  port: number;
  socketDir: string;
  /** A fresh, empty database on the same server (one per test that needs a clean slate). */
  createDatabase(name: string): string;
  /** Stops the server (connections dropped) and starts it again on the same port. */
  restart(): void;
  stop(): void;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const dir = versions.map((v) => join(root, v, 'bin')).find((d) => existsSync(join(d, 'initdb')));
  if (!dir) throw new Error(`PostgreSQL is not installed (no ${root}/<version>/bin/initdb): ${SETUP_HINT}`);
  return dir;
}

export async function startPostgres(): Promise<PostgresServer> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'maestro-pg-'));
  const asRoot = userInfo().uid === 0;
  const run = (command: string, args: string[]): string => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
    return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  };
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, password, { mode: 0o600 });
  if (asRoot) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, id('-u'), id('-g'));
    chownSync(pwfile, id('-u'), id('-g'));
  }
  const data = join(dir, 'data');
  const port = await freePort();
  const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c max_connections=50`;
  try {
    run(join(bin, 'initdb'), [
      '-D',
      data,
      '-U',
      'maestro',
      '--auth=scram-sha-256',
      `--pwfile=${pwfile}`,
      '--encoding=UTF8',
      '--no-sync', // a throwaway cluster: fsync on initdb only costs time
    ]);
    run(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start in ${dir}: ${String(error)}; ${SETUP_HINT}`, { cause: error });
  }
  const urlFor = (db: string) =>
    `postgres://maestro:${encodeURIComponent(password)}@127.0.0.1:${port}/${encodeURIComponent(db)}`;
  const psql = (sql: string) =>
    execFileSync(join(bin, 'psql'), [
      '-X',
      '-q',
      '-v',
      'ON_ERROR_STOP=1',
      '-d',
      urlFor('postgres'),
      '-c',
      sql,
    ]);
  psql('CREATE DATABASE maestro');
  return {
    url: urlFor('maestro'),
    port,
    socketDir: dir,
    createDatabase(name) {
      if (!/^[a-z][a-z0-9_]{0,62}$/.test(name)) throw new Error(`bad database name ${name}`);
      psql(`CREATE DATABASE ${name}`);
      return urlFor(name);
    },
    restart() {
      run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      run(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'server.log'), '-w', 'start']);
    },
    stop() {
      try {
        run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
