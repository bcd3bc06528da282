/** Opens the App's store that MAESTRO_DATABASE_URL names (app-store.ts has the port). */
import { databaseKind } from '../../engine/index.ts';
import type { AppStore } from '../app-store.ts';
import { openPostgresAppStore } from './postgres-app-store.ts';
import { openSqliteAppStore } from './sqlite-app-store.ts';

export interface OpenAppStoreOptions {
  dataDir: string;
  /** MAESTRO_DATABASE_URL: unset for SQLite in `dataDir`, `postgres://…` for PostgreSQL. */
  databaseUrl?: string | undefined;
}

/** The App's store the database URL names; never falls back to SQLite when PostgreSQL was asked for. */
export async function openAppStore(options: OpenAppStoreOptions): Promise<AppStore> {
  if (databaseKind(options.databaseUrl) === 'postgres') return openPostgresAppStore(options.databaseUrl!);
  return openSqliteAppStore(options.dataDir);
}
