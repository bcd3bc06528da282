/**
 * The decision log contract on a real PostgreSQL server, and what only PostgreSQL has: TRUNCATE,
 * refused as UPDATE and DELETE are.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPolicyLog } from '../../runtime/index.ts';
import { startPostgres, type PostgresServer } from '../setup/postgres-server.ts';
import { decisionLogContract } from './decision-log-contract.ts';
import { sqlOn } from './sql-on.ts';

let server: PostgresServer;
let databases = 0;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

function database() {
  const databaseUrl = server.createDatabase(`decisions_${++databases}`);
  return {
    open: () => openPolicyLog({ dataDir: '/nonexistent', durability: 'normal', databaseUrl }),
    sql: sqlOn(databaseUrl),
  };
}

decisionLogContract('postgres', { database: async () => database() });

describe('decision log on PostgreSQL', () => {
  it('refuses TRUNCATE issued directly in SQL', async () => {
    const db = database();
    const log = await db.open();
    try {
      await log.append({
        decisionId: 'd-1',
        time: '2026-01-01T00:00:00.000Z',
        runId: 'r',
        taskId: 't',
        attempt: 1,
        deliveryId: null,
        inputDigest: 'sha256:i',
        bundleDigest: 'sha256:b',
        allow: true,
        unavailable: false,
        reasons: [],
      });
      await expect(db.sql('TRUNCATE policy_decision_log')).rejects.toThrow(/append-only: TRUNCATE refused/);
      expect(await log.entries()).toHaveLength(1);
    } finally {
      await log.close();
    }
  });
});
