import { afterEach, describe, expect, it } from 'vitest';
import { createSigDevServer, type SigDevServer, type SigDevServerOptions } from '../../api/index.ts';
import type { SigIngest } from '../../core/index.ts';
import {
  ContractRegistry,
  ingestBatches,
  ingestStream,
  linkRunReceipts,
  openClaimsClient,
  SigRequestError,
} from '../../sig/index.ts';

const registry = new ContractRegistry();
const servers: SigDevServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: SigDevServerOptions = {}) {
  const server = createSigDevServer({ registry, ...options });
  servers.push(server);
  return { server, url: await server.listen() };
}

/** Retries wait on this clock, not on timers: tests never sleep for real. */
const noWait = { now: () => 0, sleep: async () => {} };

const records = (n: number, prefix = 'r'): SigIngest.Record[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i}`,
    kind: 'metric',
    producer: { name: 'maestro/data/nightly-etl' },
    occurredAt: '2026-02-01T03:00:00Z',
    payload: { i },
  }));

describe('batch ingest', () => {
  it('splits records into bounded batches, each with its own key derived from the ingest key', async () => {
    const { server, url } = await start();
    const result = await ingestBatches({ baseUrl: url }, records(1201), { idempotencyKey: 'ingest-0001' });
    expect(result).toMatchObject({ version: 3, batches: 3, accepted: 1201, duplicates: 0, replayed: 0 });
    expect([...server.received.batches.keys()]).toEqual(['ingest-0001.0', 'ingest-0001.1', 'ingest-0001.2']);
    expect(server.received.batches.get('ingest-0001.0')!.answer.accepted).toBe(500);
  });

  it('retries 429 and 503 with the same key, waiting at least Retry-After, and stores each record once', async () => {
    const { server, url } = await start();
    const waits: number[] = [];
    server.faults.failNext(2, 429, 3);
    server.faults.failNext(1, 503);
    const clock = { now: () => 0, sleep: async (ms: number) => void waits.push(ms) };
    const result = await ingestBatches({ baseUrl: url, clock }, records(10), {
      idempotencyKey: 'ingest-0002',
      version: 3,
    });
    expect(result).toMatchObject({ accepted: 10, attempts: 4 });
    expect(waits.slice(0, 2).every((ms) => ms >= 3000)).toBe(true);
    expect(server.received.records.size).toBe(10);
  });

  it('an answer lost after SIG stored the batch: the retry is answered as a replay, nothing is stored twice', async () => {
    const { server, url } = await start();
    server.faults.loseNextAnswer();
    const result = await ingestBatches({ baseUrl: url, clock: noWait }, records(5), {
      idempotencyKey: 'ingest-0003',
      version: 3,
    });
    expect(result).toMatchObject({ accepted: 5, replayed: 1, attempts: 2 });
    expect(server.received.records.size).toBe(5);
    // Running the same ingest again (a re-run after a crash) replays every batch.
    const rerun = await ingestBatches({ baseUrl: url }, records(5), {
      idempotencyKey: 'ingest-0003',
      version: 3,
    });
    expect(rerun).toMatchObject({ replayed: 1, accepted: 5 });
    expect(server.received.records.size).toBe(5);
  });

  it('a contract violation is the caller’s to fix: not retried, its fields in the error', async () => {
    const { server, url } = await start();
    const bad = [{ ...records(1)[0]!, occurredAt: 'soon' }];
    const error = await ingestBatches({ baseUrl: url }, bad, {
      idempotencyKey: 'ingest-0004',
      version: 3,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(SigRequestError);
    expect(error).toMatchObject({ code: 'contract_violation', status: 400, retryable: false, fault: 'user' });
    expect(error.details.errors).toEqual(
      expect.arrayContaining([expect.objectContaining({ pointer: '/body/records/0/occurredAt' })]),
    );
    expect(server.received.violations).toHaveLength(1);
  });
});

describe('stream ingest', () => {
  it('never has more records in flight than SIG’s window (back-pressure)', async () => {
    const { server, url } = await start({ streamWindow: 4 });
    server.faults.ackDelayMs = 2;
    const result = await ingestStream({ baseUrl: url }, records(60), { streamId: 'stream-0001' });
    expect(result).toMatchObject({ version: 3, committedOffset: 59, connections: 1 });
    expect(result.maxInFlight).toBe(4);
    expect(server.received.records.size).toBe(60);
    expect(server.received.streams.get('stream-0001')!.nextOffset).toBe(60);
  });

  it('resumes from SIG’s next offset after the connection breaks; every record stored once', async () => {
    const { server, url } = await start({ streamWindow: 8 });
    server.faults.cutStreamAfter(25);
    const result = await ingestStream({ baseUrl: url, clock: noWait }, records(70), {
      streamId: 'stream-0002',
    });
    expect(result).toMatchObject({ committedOffset: 69, connections: 2 });
    expect(server.received.records.size).toBe(70);
    const vias = [...server.received.records.values()].map((r) => r.via);
    expect(new Set(vias).size).toBe(70);
    expect(vias[25]).toBe('stream:stream-0002@25');
  });

  it('a frame that breaks the contract ends the stream with an error line, not retried', async () => {
    const { server, url } = await start();
    const bad = [...records(3), { ...records(1, 'x')[0]!, occurredAt: 'soon' }];
    const error = await ingestStream({ baseUrl: url }, bad, { streamId: 'stream-0003' }).catch((e) => e);
    expect(error).toMatchObject({ code: 'contract_violation', retryable: false });
    expect(server.received.records.size).toBe(3);
    expect(server.received.violations[0]!.problems[0]!.pointer).toBe('/frame/record/occurredAt');
  });
});

describe('claims and provenance', () => {
  const digest = (c: string) => `sha256:${c.repeat(64)}`;

  it('registers a claim once, links a run’s receipts to the claims its tasks made, reads it back', async () => {
    const { url } = await start();
    const client = await openClaimsClient({ baseUrl: url });
    const claim = {
      idempotencyKey: 'claim-export-0001',
      subject: { name: 'disclosure-bundle.tgz', digest: digest('a') },
      kind: 'disclosure' as const,
      statement: { requestId: 'req-7' },
      policy: { purpose: 'disclosure', authority: 'legal:ombuds', license: 'internal' },
    };
    const first = await client.register(claim);
    const again = await client.register(claim);
    expect(first.created).toBe(true);
    expect(again).toMatchObject({ created: false, claim: { id: first.claim.id } });
    const receipts = [
      {
        runId: 'run-1',
        taskId: 'export_bundle',
        digest: 'b'.repeat(64),
        location: 'https://maestro.example/receipts/1',
      },
      { runId: 'run-1', taskId: 'export_bundle', digest: 'b'.repeat(64) },
      { runId: 'run-1', taskId: 'other', digest: 'c'.repeat(64) },
    ];
    await linkRunReceipts(client, { export_bundle: first.claim.id }, receipts);
    const read = await client.get(first.claim.id);
    expect(read.receipts).toEqual([
      {
        digest: digest('b'),
        runId: 'run-1',
        taskId: 'export_bundle',
        location: 'https://maestro.example/receipts/1',
      },
    ]);
    expect(read.policy).toEqual(claim.policy);
  });

  it('the same key for another claim is a 409', async () => {
    const { url } = await start();
    const client = await openClaimsClient({ baseUrl: url });
    const base = {
      idempotencyKey: 'claim-0002',
      subject: { name: 'x', digest: digest('d') },
      kind: 'build' as const,
      statement: {},
    };
    await client.register(base);
    await expect(client.register({ ...base, statement: { other: true } })).rejects.toMatchObject({
      code: 'idempotency_key_reused',
    });
  });
});
