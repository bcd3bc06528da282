/** The API store contract on a real PostgreSQL server (Debian's, started for this file). */
import { afterAll, beforeAll } from 'vitest';
import { openApiStore } from '../../api/index.ts';
import { startPostgres, type PostgresServer } from '../setup/postgres-server.ts';
import { apiStoreContract } from './api-store-contract.ts';
import { sqlOn } from './sql-on.ts';

let server: PostgresServer;
let databases = 0;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

apiStoreContract('postgres', {
  database: async () => {
    const databaseUrl = server.createDatabase(`api_${++databases}`);
    return {
      open: () => openApiStore({ dataDir: '/nonexistent', databaseUrl }),
      versionTable: 'api_schema_migrations',
      tablePrefix: 'api_',
      sql: sqlOn(databaseUrl),
    };
  },
});
