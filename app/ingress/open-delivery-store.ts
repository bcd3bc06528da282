/** Opens the deliveries table that MAESTRO_DATABASE_URL names (delivery-store.ts has the port). */
import { databaseKind } from '../../engine/index.ts';
import { openSqliteDeliveryStore, type DeliveryStore, type DeliveryStoreOptions } from './delivery-store.ts';
import { openPostgresDeliveryStore } from './postgres-delivery-store.ts';

export interface OpenDeliveryStoreOptions extends DeliveryStoreOptions {
  dataDir: string;
  /** MAESTRO_DATABASE_URL: unset for SQLite in `dataDir`, `postgres://…` for PostgreSQL. */
  databaseUrl?: string | undefined;
}

/** Never falls back to SQLite when PostgreSQL was asked for. */
export async function openDeliveryStore(options: OpenDeliveryStoreOptions): Promise<DeliveryStore> {
  const { dataDir, databaseUrl, ...rest } = options;
  if (databaseKind(databaseUrl) === 'postgres') return openPostgresDeliveryStore(databaseUrl!, rest);
  return openSqliteDeliveryStore(dataDir, rest);
}
