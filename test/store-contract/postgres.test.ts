/** The store contract on a real PostgreSQL server (Debian's, started for this file). */
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { openAsyncStore } from '../../engine/index.ts';
import { startPostgres, type PostgresServer } from '../setup/postgres-server.ts';
import { storeContract } from './store-contract.ts';

let server: PostgresServer;
let databases = 0;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

storeContract('postgres', {
  database: async () => {
    const databaseUrl = server.createDatabase(`contract_${++databases}`);
    return {
      open: () => openAsyncStore({ dataDir: '/nonexistent', databaseUrl, poolSize: 4 }),
      sql: async (statement) => {
        const client = new pg.Client({ connectionString: databaseUrl });
        await client.connect();
        try {
          await client.query(statement);
        } finally {
          await client.end();
        }
      },
    };
  },
});
