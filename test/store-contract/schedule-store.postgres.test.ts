/** The schedule store contract on a real PostgreSQL server (Debian's, started for this file). */
import { afterAll, beforeAll } from 'vitest';
import { openPostgresScheduleStore } from '../../engine/index.ts';
import { startPostgres, type PostgresServer } from '../setup/postgres-server.ts';
import { scheduleStoreContract } from './schedule-store-contract.ts';

let server: PostgresServer;
let databases = 0;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

scheduleStoreContract('postgres', {
  database: async () => {
    const url = server.createDatabase(`schedules_${++databases}`);
    return { open: () => openPostgresScheduleStore(url) };
  },
});
