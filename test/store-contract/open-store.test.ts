/** Which store a database URL opens, and what a bad URL or a bad password is told (no secret in it). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { openAsyncStore, openStore, StoreUnusableError } from '../../engine/index.ts';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../cli/index.ts';
import { captureIo } from '../cli-helpers.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { startPostgres, type PostgresServer } from '../setup/postgres-server.ts';

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('openAsyncStore / openStore by database URL', () => {
  it('opens SQLite in the data dir when the URL is unset or empty, PostgreSQL for postgres://', async () => {
    const dataDir = tempDir();
    for (const databaseUrl of [undefined, '']) {
      const store = await openAsyncStore({ dataDir, databaseUrl });
      expect(store.location).toBe(dataDir);
      await store.close();
    }
    const pgStore = await openAsyncStore({
      dataDir,
      databaseUrl: server.url.replace('postgres://', 'postgresql://'),
    });
    expect(pgStore.location).toMatch(/^postgresql:\/\/maestro:\*\*\*@127\.0\.0\.1:\d+\/maestro$/);
    await pgStore.close();
  });

  it('refuses an unknown scheme, naming only the scheme', async () => {
    const error = await rejection(
      openAsyncStore({ dataDir: tempDir(), databaseUrl: 'mysql://u:hunter2@db/x' }),
    );
    expect(error).toBeInstanceOf(StoreUnusableError);
    expect(error.message).toContain('"mysql"');
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses a wrong password without echoing the password', async () => {
    const url = server.url.replace(/:[^:@/]+@/, ':not-the-password-42@');
    const error = await rejection(openAsyncStore({ dataDir: tempDir(), databaseUrl: url }));
    expect(error).toBeInstanceOf(StoreUnusableError);
    expect(error.message).toMatch(/password authentication failed/);
    expect(`${error.message} ${JSON.stringify(error)}`).not.toContain('not-the-password-42');
  });

  it('the synchronous port fails closed on a postgres:// URL instead of falling back to SQLite', () => {
    expect(() => openStore({ dataDir: tempDir(), databaseUrl: server.url })).toThrow(StoreUnusableError);
  });

  it('maestro run and runs list open the PostgreSQL MAESTRO_DATABASE_URL names, never SQLite instead', async () => {
    const root = join(import.meta.dirname, '..', '..');
    const hello = join(root, 'examples', 'quickstart', '.maestro', 'workflows', 'hello.yaml');
    for (const argv of [
      ['runs', 'list'],
      ['run', hello, '--policy', 'off'],
    ]) {
      const dataDir = tempDir();
      const io = captureIo(root, {
        MAESTRO_DATA_DIR: dataDir,
        MAESTRO_DATABASE_URL: 'postgres://u:hunter2@127.0.0.1:1/x',
        MAESTRO_PROVENANCE: 'off',
      });
      // Nothing listens on port 1: the command fails on PostgreSQL, naming it without the password.
      expect(await runCli(argv, io)).not.toBe(0);
      expect(io.err()).toMatch(
        /the PostgreSQL database postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x cannot be used/,
      );
      expect(io.out() + io.err()).not.toContain('hunter2');
      expect(existsSync(join(dataDir, 'maestro.db'))).toBe(false);
    }
  });

  it('refuses TRUNCATE of the attempts table on PostgreSQL', async () => {
    const url = server.createDatabase('truncate_check');
    await (await openAsyncStore({ dataDir: '/nonexistent', databaseUrl: url })).close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await expect(client.query('TRUNCATE attempts CASCADE')).rejects.toThrow(/never deleted/);
    } finally {
      await client.end();
    }
  });

  it('reconnects after a PostgreSQL restart: the store keeps working', async () => {
    const url = server.createDatabase('restart_check');
    const store = await openAsyncStore({ dataDir: '/nonexistent', databaseUrl: url, poolSize: 2 });
    try {
      await store.acquireLease('l', 'w1', 1000, 100);
      server.restart();
      expect((await store.acquireLease('l', 'w1', 1050, 100)).owner).toBe('w1');
    } finally {
      await store.close();
    }
  });
});
