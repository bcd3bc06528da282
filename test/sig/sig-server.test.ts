import { afterEach, describe, expect, it } from 'vitest';
import { createSigDevServer, type SigDevServer } from '../../api/index.ts';

const servers: SigDevServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options?: Parameters<typeof createSigDevServer>[0]) {
  const server = createSigDevServer(options);
  servers.push(server);
  return { server, url: await server.listen() };
}

const record = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'event',
  producer: { name: 'maestro/test' },
  occurredAt: '2026-02-01T03:00:00Z',
  payload: { n: 1 },
  ...extra,
});

async function post(url: string, body: unknown) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

describe('the SIG reference server checks every request against its contract', () => {
  it('refuses a batch that breaks v3 with every field named, and stores none of it', async () => {
    const { server, url } = await start();
    const answer = await post(`${url}/v3/ingest/batches`, {
      schemaVersion: 3,
      idempotencyKey: 'short',
      records: [
        record('a', { kind: 'gossip' }),
        { id: 'b', kind: 'event', occurredAt: 'yesterday', payload: {} },
      ],
      extra: true,
    });
    expect(answer.status).toBe(400);
    expect(answer.body.code).toBe('contract_violation');
    const pointers = (answer.body.errors as Array<{ pointer: string }>).map((e) => e.pointer);
    expect(pointers).toEqual(
      expect.arrayContaining([
        '/body/idempotencyKey',
        '/body/extra',
        '/body/records/0/kind',
        '/body/records/1/occurredAt',
      ]),
    );
    expect(server.received.records.size).toBe(0);
    expect(server.received.violations).toHaveLength(1);
  });

  it('a field v3 added is refused on v2 (each version is its own contract)', async () => {
    const { url } = await start();
    const answer = await post(`${url}/v2/ingest/batches`, {
      schemaVersion: 2,
      idempotencyKey: 'key-00001',
      records: [record('a')],
    });
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual(
      expect.arrayContaining([
        { pointer: '/body/records/0/producer', message: 'is not allowed by the contract' },
      ]),
    );
  });

  it('records must follow the schema version the batch names, not only the path version', async () => {
    const { url } = await start();
    const answer = await post(`${url}/v3/ingest/batches`, {
      schemaVersion: 1,
      idempotencyKey: 'key-00002',
      records: [record('a', { source: 'x', kind: 'log' })],
    });
    expect(answer.status).toBe(400);
    expect((answer.body.errors as Array<{ pointer: string }>).map((e) => e.pointer)).toContain(
      '/body/records/0/kind',
    );
  });

  it('keeps what it accepts, once per idempotency key, and refuses the key reused for other records', async () => {
    const { server, url } = await start();
    const batch = { schemaVersion: 3, idempotencyKey: 'key-00003', records: [record('a'), record('b')] };
    const first = await post(`${url}/v3/ingest/batches`, batch);
    const again = await post(`${url}/v3/ingest/batches`, batch);
    expect(first).toMatchObject({ status: 202, body: { accepted: 2, duplicates: 0, replayed: false } });
    expect(again).toMatchObject({ status: 202, body: { accepted: 2, replayed: true } });
    expect([...server.received.records.keys()]).toEqual(['a', 'b']);
    const reused = await post(`${url}/v3/ingest/batches`, { ...batch, records: [record('c')] });
    expect(reused).toMatchObject({ status: 409, body: { code: 'idempotency_key_reused' } });
    expect(server.received.records.has('c')).toBe(false);
  });

  it('a v1-only server speaks v1 and says so on /versions', async () => {
    const { url } = await start({ versions: { ingest: [1], claims: [1], 'runbook-trigger': [1] } });
    expect(await (await fetch(`${url}/versions`)).json()).toEqual({
      contracts: { ingest: [1], claims: [1], runbookTrigger: [1] },
    });
    expect((await post(`${url}/v3/ingest/batches`, {})).status).toBe(404);
  });
});
