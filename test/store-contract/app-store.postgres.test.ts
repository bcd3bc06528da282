/** The App's store contract on a real PostgreSQL server (Debian's, started for this file). */
import { afterAll, beforeAll } from 'vitest';
import { openAppStore, openDeliveryStore } from '../../app/index.ts';
import { startPostgres, type PostgresServer } from '../setup/postgres-server.ts';
import { appStoreContract } from './app-store-contract.ts';
import { sqlOn } from './sql-on.ts';

let server: PostgresServer;
let databases = 0;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

appStoreContract('postgres', {
  database: async () => {
    const databaseUrl = server.createDatabase(`app_${++databases}`);
    const where = { dataDir: '/nonexistent', databaseUrl };
    return {
      open: async () => ({ app: await openAppStore(where), deliveries: await openDeliveryStore(where) }),
      prefix: 'app_',
      futureVersion: 'INSERT INTO app_schema_migrations (version, applied_at) VALUES (999, 0)',
      sql: sqlOn(databaseUrl),
    };
  },
});
