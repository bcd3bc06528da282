// tasks/db in-process (runTask, the lifecycle the runner starts) against a real PostgreSQL
// (initdb + pg_ctl, test/setup/postgres-server.ts) and a real SQLite file.
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { runTask } from '../../sdk/index.ts';
import { SpanStatusCode } from '@opentelemetry/api';
import { childSpanOf, recordTaskSpans, TRACEPARENT } from '../../test/helpers/task-spans.ts';
import { startPostgres, type PostgresServer } from '../../test/setup/postgres-server.ts';
import { db } from './index.ts';

let server: PostgresServer;
let url: string;
const spans = recordTaskSpans();
beforeAll(async () => {
  server = await startPostgres();
  url = server.createDatabase('tasks_db');
}, 60_000);
afterAll(() => server?.stop());

const INJECTION = "Robert'); DROP TABLE people; --";
const secrets = () => ({ DATABASE_URL: url });

async function count(table: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  } finally {
    await client.end();
  }
}

describe('tasks/db on PostgreSQL', () => {
  it('runs statements with params in one transaction and outputs the last one’s rows', async () => {
    const result = await runTask(
      db,
      {
        driver: 'postgres',
        statements: [
          { sql: 'CREATE TABLE people (id serial PRIMARY KEY, name text NOT NULL, age int)' },
          {
            sql: 'INSERT INTO people (name, age) VALUES ($1, $2), ($3, $4)',
            params: ['Ada', 36, INJECTION, null],
          },
          { sql: 'SELECT name, age FROM people ORDER BY id' },
        ],
      },
      { secrets: secrets() },
    );
    expect(result.outcome, String(result.error)).toBe('succeeded');
    // The param that looks like SQL is a value, stored as written: the table is still there.
    expect(result.outputs).toEqual({
      rows: [
        { name: 'Ada', age: 36 },
        { name: INJECTION, age: null },
      ],
      rowCount: 2,
      affected: 2,
      skipped: false,
    });
    expect(result.logs[0]!.message).toMatch(/^db: 3 statement\(s\) on postgres 127\.0\.0\.1:\d+\/tasks_db$/);
  });

  it('a failing statement rolls every earlier one back, and the error names it', async () => {
    const result = await runTask(
      db,
      {
        driver: 'postgres',
        statements: [
          { sql: 'INSERT INTO people (name) VALUES ($1)', params: ['Grace'] },
          { sql: 'INSERT INTO people (name) VALUES ($1)', params: [null] },
        ],
      },
      { secrets: secrets() },
    );
    expect(result.outcome).toBe('failed');
    expect(result.error).toMatchObject({ code: 'db_statement_failed' });
    expect(String((result.error as Error).message)).toMatch(
      /^statement 2 of 2 \(\/statements\/1\) failed: null value in column "name".*\(SQLSTATE 23502\)$/,
    );
    expect(await count('people')).toBe(2);
  });

  it('an idempotency key applies once: the second run changes nothing and says skipped', async () => {
    const inputs = {
      driver: 'postgres',
      sql: 'INSERT INTO people (name) VALUES ($1)',
      params: ['Linus'],
      idempotencyKey: 'release-1.2.3',
    };
    const first = await runTask(db, inputs, { secrets: secrets() });
    expect(first.outputs).toMatchObject({ affected: 1, skipped: false });
    const second = await runTask(db, inputs, { secrets: secrets() });
    expect(second.outcome).toBe('succeeded');
    expect(second.outputs).toEqual({ rowCount: 0, affected: 0, skipped: true });
    expect(await count('people')).toBe(3);
  });

  it('the URL with its password comes from a secret only: in url it is refused, and never quoted', async () => {
    const password = new URL(url).password;
    const inline = await runTask(db, { driver: 'postgres', url, sql: 'SELECT 1' });
    expect(inline.outcome).toBe('failed');
    expect(inline.error).toMatchObject({ code: 'db_password_in_inputs' });
    const wrong = new URL(url);
    wrong.password = 'not-the-password-5e1f';
    const denied = await runTask(
      db,
      { driver: 'postgres', urlSecret: 'PG', sql: 'SELECT 1' },
      { secrets: { PG: wrong.href } },
    );
    expect(denied.error).toMatchObject({ code: 'db_connect_failed', retryable: true });
    const missing = await runTask(db, { driver: 'postgres', sql: 'SELECT 1' });
    expect(missing.error).toMatchObject({ code: 'secret_missing' });
    const garbage = await runTask(
      db,
      { driver: 'postgres', sql: 'SELECT 1' },
      { secrets: { DATABASE_URL: password } },
    );
    expect(garbage.error).toMatchObject({
      code: 'db_url_invalid',
      message: 'the secret DATABASE_URL is not a URL',
    });
    for (const r of [inline, denied, missing, garbage]) {
      const said = JSON.stringify([String(r.error), (r.error as { hint?: string }).hint, r.messages]);
      expect(said).not.toContain(password);
      expect(said).not.toContain('not-the-password-5e1f');
    }
  });

  it('the attack: a server beyond loopback without TLS asking for the password in clear gets nothing', async () => {
    const attacker = await startPasswordThief();
    try {
      const far = (query = '') => `postgres://app:pw-pg-8c3d@${lanAddress}:${attacker.port}/orders${query}`;
      const plain = await runTask(
        db,
        { driver: 'postgres', sql: 'SELECT 1' },
        { secrets: { DATABASE_URL: far() } },
      );
      // Against the old task the thief read the password in the clear (and the task failed after).
      expect(attacker.passwords).toEqual([]);
      expect(plain.error).toMatchObject({
        code: 'credential_in_clear',
        retryable: false,
        message: `the PostgreSQL credentials would go to ${lanAddress} in clear: the URL asks for no verified TLS`,
      });
      expect(JSON.stringify([String(plain.error), plain.messages])).not.toContain('pw-pg-8c3d');
      for (const query of ['?sslmode=disable', '?sslmode=no-verify', '?sslmode=require&uselibpqcompat=true'])
        expect(
          (
            await runTask(
              db,
              { driver: 'postgres', sql: 'SELECT 1' },
              { secrets: { DATABASE_URL: far(query) } },
            )
          ).error,
          query,
        ).toMatchObject({ code: 'credential_in_clear' });
      // Asking for TLS, the task connects, and the server that offers none gets no password either.
      const tls = await runTask(
        db,
        { driver: 'postgres', sql: 'SELECT 1' },
        { secrets: { DATABASE_URL: far('?sslmode=verify-full') } },
      );
      expect(tls.error).toMatchObject({ code: 'db_connect_failed', message: expect.stringMatching(/SSL/) });
      expect(attacker.passwords).toEqual([]);
      expect(attacker.connections).toBe(1);
    } finally {
      await attacker.close();
    }
  });

  it('the statements are a span, a child of the attempt’s TRACEPARENT: the system, the batch, the rows; a failure’s code', async () => {
    spans.take();
    const sql = 'SELECT n FROM generate_series(1, 3) AS n';
    const ok = await runTask(db, { driver: 'postgres', sql }, { secrets: { ...secrets(), TRACEPARENT } });
    expect(ok.outcome, String(ok.error)).toBe('succeeded');
    const span = childSpanOf(spans.take(), 'db');
    expect([span.name, span.status.code]).toEqual(['db postgres', SpanStatusCode.OK]);
    expect(span.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.operation.batch.size': 1,
      'db.response.returned_rows': 3,
      'maestro.db.affected': 0,
    });
    const bad = await runTask(
      db,
      { driver: 'postgres', sql: 'SELECT nope' },
      { secrets: { ...secrets(), TRACEPARENT } },
    );
    expect(bad.outcome).toBe('failed');
    const failed = childSpanOf(spans.take(), 'db');
    expect([failed.status.code, failed.attributes['error.type']]).toEqual([
      SpanStatusCode.ERROR,
      'db_statement_failed',
    ]);
  });

  it('more rows than maxRows fail, pointing at resultFile', async () => {
    const result = await runTask(
      db,
      { driver: 'postgres', sql: 'SELECT generate_series(1, 5) AS n', maxRows: 3 },
      { secrets: secrets() },
    );
    expect(result.error).toMatchObject({ code: 'db_too_many_rows' });
  });
});

describe('tasks/db on SQLite', () => {
  const workspace = mkdtempSync(join(tmpdir(), 'maestro-db-'));

  it('writes the rows as CSV to a workspace file (an artifact), affected counted over every statement', async () => {
    const result = await runTask(
      db,
      {
        driver: 'sqlite',
        url: 'app.db',
        statements: [
          { sql: 'CREATE TABLE t (k TEXT, v INTEGER, ok INTEGER)' },
          {
            sql: 'INSERT INTO t VALUES (?, ?, ?), (?, ?, ?)',
            params: ['a,"quoted"', 1, true, INJECTION, 2, false],
          },
          { sql: 'UPDATE t SET v = v + 10 WHERE v = ?', params: [2] },
          { sql: 'SELECT k, v, ok FROM t ORDER BY v' },
        ],
        resultFile: 'out/rows.csv',
        format: 'csv',
      },
      { workspace },
    );
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(result.outputs).toEqual({ rowCount: 2, affected: 3, skipped: false, resultFile: 'out/rows.csv' });
    expect(result.artifacts).toEqual(['out/rows.csv']);
    expect(readFileSync(join(workspace, 'out/rows.csv'), 'utf8')).toBe(
      `k,v,ok\r\n"a,""quoted""",1,1\r\n${INJECTION},12,0\r\n`,
    );
  });

  it('rolls back on a failure and applies an idempotency key once', async () => {
    const failed = await runTask(
      db,
      {
        driver: 'sqlite',
        url: 'app.db',
        statements: [{ sql: "INSERT INTO t VALUES ('x', 3, 1)" }, { sql: 'INSERT INTO nowhere VALUES (1)' }],
      },
      { workspace },
    );
    expect(failed.error).toMatchObject({ code: 'db_statement_failed' });
    const inputs = {
      driver: 'sqlite',
      url: 'app.db',
      sql: "INSERT INTO t VALUES ('y', 4, 1)",
      idempotencyKey: 'k1',
    };
    expect((await runTask(db, inputs, { workspace })).outputs).toMatchObject({ affected: 1, skipped: false });
    expect((await runTask(db, inputs, { workspace })).outputs).toMatchObject({ skipped: true });
    const file = new DatabaseSync(join(workspace, 'app.db'), { readOnly: true });
    expect(
      file
        .prepare('SELECT k FROM t ORDER BY rowid')
        .all()
        .map((r) => r.k),
    ).toEqual(['a,"quoted"', INJECTION, 'y']);
    file.close();
  });

  it('a database file or result file outside the workspace is refused, naming the input', async () => {
    const outside = await runTask(
      db,
      { driver: 'sqlite', url: '../elsewhere.db', sql: 'SELECT 1' },
      { workspace },
    );
    expect(outside.error).toMatchObject({
      code: 'path_outside_workspace',
      message: expect.stringMatching(/^\/url: /),
    });
    const absolute = await runTask(
      db,
      { driver: 'sqlite', url: 'app.db', sql: 'SELECT 1 AS one', resultFile: '/tmp/x.json' },
      { workspace },
    );
    expect(absolute.error).toMatchObject({
      code: 'path_outside_workspace',
      message: expect.stringMatching(/^\/resultFile: /),
    });
  });
});

describe('tasks/db inputs', () => {
  it('reports every problem with its path before connecting', async () => {
    const result = await runTask(db, {
      driver: 'sqlite',
      sql: 'SELECT 1',
      statements: [{ sql: 'SELECT 2' }],
      format: 'csv',
    });
    expect(result.outcome).toBe('invalid');
    expect(result.errors).toEqual([
      { path: '/sql', message: 'give exactly one of sql and statements' },
      { path: '/url', message: 'sqlite needs url: the database file, relative to the workspace' },
      { path: '/format', message: 'format is the format of resultFile, which is not set' },
    ]);
    expect(
      (await runTask(db, { driver: 'mysql', sql: 'x', params: [{}] })).errors.map((e) => e.path),
    ).toEqual(['/driver', '/params/0']);
  });

  it('its spec is the catalog’s (task.json): the compiler and the task check the same schema', () => {
    const manifest = JSON.parse(readFileSync(new URL('./task.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.inputs).toEqual(db.spec.inputs);
    expect(manifest.outputs).toEqual(Object.keys(db.spec.outputs.properties ?? {}));
    expect([manifest.name, manifest.version, manifest.description]).toEqual([
      db.name,
      db.version,
      db.description,
    ]);
  });
});

/** This machine's first non-loopback IPv4 address: a server there is "another host". */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/**
 * A man in the middle on `lanAddress` posing as PostgreSQL: it answers a startup message with
 * AuthenticationCleartextPassword, as a server may, and keeps the password message it gets; an
 * SSLRequest it answers `N` (no TLS here).
 */
async function startPasswordThief() {
  if (!lanAddress) throw new Error('this machine has no non-loopback address for the thief');
  const passwords: string[] = [];
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.on('error', () => undefined);
    socket.on('data', (data: Buffer) => {
      if (data.length === 8 && data.readInt32BE(4) === 80877103) socket.write('N');
      else if (data[0] === 0x70) passwords.push(data.subarray(5, data.length - 1).toString('utf8'));
      else socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // 'R', length 8, cleartext
    });
  });
  await new Promise<void>((resolve) => server.listen(0, lanAddress, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    passwords,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
