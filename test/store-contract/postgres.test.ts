/** The store contract on a real PostgreSQL server (Debian's, started for this file). */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAsyncStore } from '../../engine/index.ts';
import { migrations } from '../../engine/store/postgres/migrations.ts';
import { startPostgres, type PostgresServer } from '../setup/postgres-server.ts';
import { labelsVersion, newRun, storeContract } from './store-contract.ts';

let server: PostgresServer;
let databases = 0;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

storeContract('postgres', {
  labelsVersion: labelsVersion(migrations),
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

describe('claims on PostgreSQL', () => {
  it("hand the claimed run and its tasks over with the lease (read in the claim's round trip, no getRun or listTasks after)", async () => {
    const databaseUrl = server.createDatabase(`contract_${++databases}`);
    const s = await openAsyncStore({ dataDir: '/nonexistent', databaseUrl, poolSize: 4 });
    try {
      await s.createRun(newRun('r1', 1000));
      const claimed = await s.claimRun('w1', 1010, 100);
      expect(claimed?.run).toEqual(await s.getRun('r1'));
      expect(claimed?.tasks).toEqual(await s.listTasks('r1'));
      expect(claimed?.tasks?.map((t) => t.taskId)).toEqual(['a', 'b', 'c']);
      // Nothing claimed: no run either, whatever this pooled connection's last claim left.
      expect(await s.claimRun('w1', 1010, 100)).toBeNull();
    } finally {
      await s.close();
    }
  });
});
