/**
 * Opens the store a surface asked for. `databaseUrl` is what the surfaces read from
 * MAESTRO_DATABASE_URL: unset (or empty) means the embedded SQLite database in the data dir;
 * `postgres://` or `postgresql://` means PostgreSQL. `durability` (SQLite only): `normal`
 * (default) survives a killed process; `full` also survives power loss, at one fsync per commit
 * (see sqlite/open-database.ts).
 *
 * The engine runs on the asynchronous port (`openAsyncStore`). `openStore`
 * is the synchronous SQLite store itself (tests read the database directly through it); asked
 * for PostgreSQL it fails closed rather than quietly using SQLite.
 */
import { StoreUnusableError } from '../errors.ts';
import type { AsyncStore } from './async-store.ts';
import { openPostgresStore } from './postgres/postgres-store.ts';
import { openAsyncSqliteStore } from './sqlite/async-sqlite-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';

export interface OpenStoreOptions {
  dataDir: string;
  /** MAESTRO_DATABASE_URL: unset for SQLite in `dataDir`, `postgres://…` for PostgreSQL. */
  databaseUrl?: string | undefined;
  durability?: 'normal' | 'full';
  /** PostgreSQL connections per process (default 10). */
  poolSize?: number;
}

export type DatabaseKind = 'sqlite' | 'postgres';

/** Which database MAESTRO_DATABASE_URL names; a URL of another scheme is refused (fail closed). */
export function databaseKind(databaseUrl: string | undefined): DatabaseKind {
  if (databaseUrl === undefined || databaseUrl.trim() === '') return 'sqlite';
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) return 'postgres';
  // Only the scheme is named: the rest of a URL may hold a password.
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(databaseUrl)?.[1];
  throw new StoreUnusableError(
    `MAESTRO_DATABASE_URL has ${scheme ? `the scheme ${JSON.stringify(scheme)}` : 'no scheme'}; maestro supports postgres:// (or unset, for SQLite in the data dir)`,
    { hint: 'set MAESTRO_DATABASE_URL=postgres://user:password@host:5432/db, or unset it' },
  );
}

export function openStore(options: OpenStoreOptions): SqliteStore {
  if (databaseKind(options.databaseUrl) === 'postgres')
    throw new StoreUnusableError(
      'openStore opens the synchronous SQLite store only; PostgreSQL is opened with openAsyncStore',
      { hint: 'open the store with openAsyncStore, as runtime/ and the CLI do' },
    );
  return new SqliteStore(options.dataDir, options.durability);
}

/** The store the engine runs on: SQLite in the data dir, or PostgreSQL when `databaseUrl` says so. */
export async function openAsyncStore(options: OpenStoreOptions): Promise<AsyncStore> {
  if (databaseKind(options.databaseUrl) === 'postgres')
    return openPostgresStore(
      options.databaseUrl!,
      options.poolSize === undefined ? {} : { max: options.poolSize },
    );
  return openAsyncSqliteStore(options.dataDir, options.durability);
}
