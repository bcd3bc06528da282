/**
 * The store's named prepared statements (engine/store/postgres/prepared.ts) on a real PostgreSQL
 * server: a name prepared once per connection, and prepared again on the connection that
 * replaces one a server restart ended (node-pg keeps the prepared names per connection; were it
 * to remember them across connections, the Bind would fail with "prepared statement does not
 * exist").
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepared } from '../engine/store/postgres/prepared.ts';
import { retrying, transaction } from '../engine/store/postgres/reconnect.ts';
import { startPostgres, type PostgresServer } from './setup/postgres-server.ts';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

const DOUBLE = prepared('SELECT $1::int * 2 AS n');
const preparedHere = 'SELECT name, statement FROM pg_prepared_statements ORDER BY name';

describe('named prepared statements on PostgreSQL', () => {
  it('names a text by its hash: equal texts one name, different texts different names', () => {
    expect(prepared('SELECT $1::int * 2 AS n')).toEqual(DOUBLE);
    expect(prepared('SELECT $1::int * 3 AS n').name).not.toBe(DOUBLE.name);
    expect(DOUBLE.name).toMatch(/^maestro_[0-9a-f]{24}$/);
  });

  it('prepares once per connection, and again on the connection that replaces one a restart ended', async () => {
    const pool = new pg.Pool({ connectionString: server.createDatabase('prepared_restart'), max: 1 });
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    const db = retrying(pool);
    try {
      expect((await db.query(DOUBLE, [21])).rows).toEqual([{ n: 42 }]);
      expect((await db.query(DOUBLE, [5])).rows).toEqual([{ n: 10 }]);
      // One connection (max 1): the statement is prepared on it, once, under its name.
      expect((await db.query(preparedHere)).rows).toEqual([{ name: DOUBLE.name, statement: DOUBLE.text }]);

      server.restart();
      expect((await db.query(DOUBLE, [4])).rows).toEqual([{ n: 8 }]);
      expect((await db.query(preparedHere)).rows).toEqual([{ name: DOUBLE.name, statement: DOUBLE.text }]);

      server.restart();
      // A transaction's connection too (the store's fenced and multi-statement writes).
      const n = await transaction(pool, async (c) => (await c.query(DOUBLE, [7])).rows[0]?.n);
      expect(n).toBe(14);
    } finally {
      await pool.end();
    }
  });

  it('runs a statement again on a fresh connection when a migration changed the columns it returns', async () => {
    const url = server.createDatabase('prepared_stale');
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const db = retrying(pool);
    const READ = prepared('SELECT * FROM things WHERE id = $1');
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      await db.query("CREATE TABLE things (id text PRIMARY KEY); INSERT INTO things VALUES ('a')");
      // Prepared on both connections (two at once, so the pool opens its second).
      await Promise.all([db.query(READ, ['a']), transaction(pool, (c) => c.query(READ, ['a']))]);
      // Another version's migration, as in a rolling upgrade: the old plans' row type is gone.
      await other.query("ALTER TABLE things ADD COLUMN colour text NOT NULL DEFAULT 'red'");
      expect((await db.query(READ, ['a'])).rows).toEqual([{ id: 'a', colour: 'red' }]);
      const inTx = await transaction(pool, async (c) => (await c.query(READ, ['a'])).rows);
      expect(inTx).toEqual([{ id: 'a', colour: 'red' }]);
    } finally {
      await other.end();
      await pool.end();
    }
  });
});
