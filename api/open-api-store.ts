/** Opens the API store that MAESTRO_DATABASE_URL names (api-store.ts has the port). */
import { databaseKind } from '../engine/index.ts';
import type { ApiStore } from './api-store.ts';
import { openPostgresApiStore } from './postgres-api-store.ts';
import { openSqliteApiStore } from './sqlite-api-store.ts';

export interface OpenApiStoreOptions {
  dataDir: string;
  /** MAESTRO_DATABASE_URL: unset for SQLite in `dataDir`, `postgres://…` for PostgreSQL. */
  databaseUrl?: string | undefined;
}

/** The API store the database URL names; never falls back to SQLite when PostgreSQL was asked for. */
export async function openApiStore(options: OpenApiStoreOptions): Promise<ApiStore> {
  if (databaseKind(options.databaseUrl) === 'postgres') return openPostgresApiStore(options.databaseUrl!);
  return openSqliteApiStore(options.dataDir);
}
