/**
 * The API's own state on PostgreSQL: with MAESTRO_DATABASE_URL set, `maestro tokens` writes the
 * token's hash to the database (no server needed, nothing in the data dir), and two API replicas
 * with different data dirs share the tokens, the stored workflows and the idempotency keys. Before
 * the API store had a PostgreSQL implementation each replica kept its own `api.sqlite`: a token
 * or a workflow known to one was 401 or 404 at the other.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyDisclosure } from '../../provenance/index.ts';
import { runCaptured } from '../cli-helpers.ts';
import { startPostgres, type PostgresServer } from '../setup/postgres-server.ts';
import { HELLO, startApi, type ApiHarness } from './api-harness.ts';

let server: PostgresServer;
let url: string;
let dir: string;
let replicas: ApiHarness[] = [];
beforeAll(async () => {
  server = await startPostgres();
  url = server.createDatabase('api_shared');
  dir = mkdtempSync(join(tmpdir(), 'maestro-api-pg-'));
  replicas = [
    await startApi({ databaseUrl: url, worker: false }),
    await startApi({ databaseUrl: url, worker: false }),
  ];
}, 120_000);
afterAll(async () => {
  for (const r of replicas) await r.close();
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function rows(sql: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

const cli = (args: string[], dataDir: string) =>
  runCaptured([...args, '--data-dir', dataDir], dir, {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    MAESTRO_DATABASE_URL: url,
  });

describe('the API store on PostgreSQL', () => {
  it('maestro tokens create writes the hash to MAESTRO_DATABASE_URL; both replicas accept it, then refuse it once revoked', async () => {
    const dataDir = join(dir, 'operator');
    const created = await cli(['tokens', 'create', '--name', 'ops', '--scope', 'workflows:read'], dataDir);
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^mst_/);
    // Stored as its hash only, in PostgreSQL; the data dir got no api.sqlite.
    const stored = await rows(`SELECT * FROM api_tokens WHERE name = 'ops'`);
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(await rows('SELECT * FROM api_tokens'))).not.toContain(token.slice(4, 24));
    expect(existsSync(join(dataDir, 'api.sqlite'))).toBe(false);
    for (const r of replicas)
      expect((await r.call('GET', '/v1/workflows', { token })).status, r.dataDir).toBe(200);

    const listed = await cli(['tokens', 'list', '--format', 'json'], join(dir, 'elsewhere'));
    const id = (JSON.parse(listed.stdout) as { id: string; name: string }[]).find(
      (t) => t.name === 'ops',
    )!.id;
    expect((await cli(['tokens', 'revoke', id], dataDir)).code).toBe(0);
    for (const r of replicas) expect((await r.call('GET', '/v1/workflows', { token })).status).toBe(401);
  });

  it('a workflow posted to one replica is found by the other', async () => {
    const [a, b] = replicas as [ApiHarness, ApiHarness];
    const posted = await a.call('POST', '/v1/workflows', { raw: HELLO, contentType: 'application/yaml' });
    expect(posted.status).toBe(201);
    const digest = posted.body.digest as string;
    const found = await b.call('GET', '/v1/workflows/{digest}', { params: { digest } });
    expect(found.status).toBe(200);
    expect(found.body.manifest).toBe(HELLO);
    const again = await b.call('POST', '/v1/workflows', { raw: HELLO, contentType: 'application/yaml' });
    expect(again).toMatchObject({ status: 200, body: { digest } });
    const listed = await b.call('GET', '/v1/workflows', { query: { name: 'hello' } });
    expect(listed.body.items.map((w: { digest: string }) => w.digest)).toEqual([digest]);
  });

  it('an Idempotency-Key used at one replica gives the same run at the other', async () => {
    const [a, b] = replicas as [ApiHarness, ApiHarness];
    const token = await a.mint(['runs:write', 'runs:read']);
    const body = { workflow: { namespace: 'quickstart', name: 'hello' } };
    const headers = { 'idempotency-key': 'deploy-42' };
    const first = await a.call('POST', '/v1/runs', { token, body, headers });
    expect(first.status).toBe(202);
    const second = await b.call('POST', '/v1/runs', { token, body, headers });
    expect(second).toMatchObject({ status: 202, body: { id: first.body.id } });
    const conflict = await b.call('POST', '/v1/runs', { token, body: { ...body, priority: 5 }, headers });
    expect(conflict.status).toBe(409);
  });

  it('a run on PostgreSQL is disclosed with its receipts and policy decisions from the database', async () => {
    const worker = await startApi({ databaseUrl: url });
    try {
      const accepted = await worker.call('POST', '/v1/runs', {
        body: { workflow: { namespace: 'quickstart', name: 'hello' }, params: { who: 'pg' } },
      });
      expect((await worker.settle(accepted.body.id)).body.run.status).toBe('succeeded');
      const archive = await worker.call('GET', '/v1/runs/{id}/disclosure', {
        params: { id: accepted.body.id },
      });
      expect(archive).toMatchObject({ status: 200, contentType: 'application/gzip' });
      const keys = await worker.call('GET', '/v1/keys');
      const report = await verifyDisclosure(archive.body as Buffer, {
        publicKey: keys.body.keys[0].publicKeyPem,
      });
      expect(report).toMatchObject({ runId: accepted.body.id, trust: 'pinned' });
      expect(report.receipts).toBeGreaterThan(0);
      // The decisions came from PostgreSQL's log (this replica's data dir has no decisions.db).
      expect(existsSync(join(worker.dataDir, 'decisions.db'))).toBe(false);
      const { gunzipSync } = await import('node:zlib');
      expect(gunzipSync(archive.body as Buffer).toString('latin1')).toContain('policy/decisions.jsonl');
    } finally {
      await worker.close();
    }
  });
});
