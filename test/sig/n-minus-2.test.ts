import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigDevServer, type SigDevServer } from '../../api/index.ts';
import type { SigIngest } from '../../core/index.ts';
import {
  ContractRegistry,
  ingestBatches,
  ingestStream,
  negotiateVersion,
  openClaimsClient,
  SigNotRepresentableError,
  triggerRunbook,
  type ContractVersion,
} from '../../sig/index.ts';
import * as v1 from '../fixtures/sig-clients/v1-client.ts';
import * as v2 from '../fixtures/sig-clients/v2-client.ts';

/**
 * N-2 compatibility (SM-214): today's clients against v1, v2 and v3 servers, and the v1 and v2
 * clients, frozen as fixtures, against today's server. Every server records any request that broke
 * its contract; each case ends by asserting there were none.
 */
const registry = new ContractRegistry();
const digest = (c: string) => `sha256:${c.repeat(64)}`;

const todaysRecords = (prefix: string): SigIngest.Record[] =>
  [0, 1, 2].map((i) => ({
    id: `${prefix}-${i}`,
    kind: 'event',
    producer: { name: 'maestro/data/nightly-etl' },
    labels: { region: 'eu' },
    occurredAt: '2026-02-01T03:00:00Z',
    payload: { i },
  }));

describe.each([1, 2, 3] as const)("today's clients against a v%i server", (serverVersion) => {
  let server: SigDevServer;
  let url: string;
  const versions = [1, 2, 3].filter((v) => v <= serverVersion) as ContractVersion[];
  beforeAll(async () => {
    server = createSigDevServer({
      registry,
      versions: { ingest: versions, claims: versions, 'runbook-trigger': versions },
    });
    url = await server.listen();
  });
  afterAll(() => server.close());

  it('negotiate that version and ingest in batches, in its shape', async () => {
    const result = await ingestBatches({ baseUrl: url }, todaysRecords('batch'), {
      idempotencyKey: `n2-batch-${serverVersion}`,
    });
    expect(result).toMatchObject({ version: serverVersion, accepted: 3 });
    const stored = server.received.records.get('batch-0')!;
    expect(stored.version).toBe(serverVersion);
    if (serverVersion < 3) expect(stored.record).toMatchObject({ source: 'maestro/data/nightly-etl' });
    if (serverVersion === 1)
      expect(result.dropped).toEqual(['batch-0: labels', 'batch-1: labels', 'batch-2: labels']);
    else expect(result.dropped).toEqual([]);
  });

  it('stream ingest in that version', async () => {
    const result = await ingestStream({ baseUrl: url }, todaysRecords('stream'), {
      streamId: `n2-stream-${serverVersion}`,
    });
    expect(result).toMatchObject({ version: serverVersion, committedOffset: 2 });
    expect(server.received.records.get('stream-2')?.via).toBe(`stream:n2-stream-${serverVersion}@2`);
  });

  it('register a claim and link receipts in that version', async () => {
    const client = await openClaimsClient({ baseUrl: url });
    expect(client.version).toBe(serverVersion);
    const { claim, dropped } = await client.register({
      idempotencyKey: `n2-claim-${serverVersion}`,
      subject: { name: 'image', digest: digest('1') },
      kind: 'build',
      statement: {},
      policy: { purpose: 'release', authority: 'team:platform', license: 'internal' },
    });
    expect(dropped).toEqual(serverVersion < 3 ? ['policy'] : []);
    const linked = await client.link(claim.id, [
      { digest: digest('2'), runId: 'run-9', location: 'https://m.example/r/9' },
    ]);
    expect(linked.receipts[0]).toMatchObject(
      serverVersion < 3 ? { uri: 'https://m.example/r/9' } : { location: 'https://m.example/r/9' },
    );
  });

  it('trigger a runbook in that version', async () => {
    const version = await negotiateVersion({ baseUrl: url }, 'runbook-trigger');
    const result = await triggerRunbook(
      { baseUrl: url, token: 't' },
      { namespace: 'data', name: 'ingest-backfill' },
      {
        correlationId: 'corr-1',
        purpose: 'reporting',
        authority: 'team:data',
        license: 'internal',
        reason: 'why',
      },
      version,
    );
    expect(result.status).toBe('queued');
    expect(server.received.triggers.at(-1)).toMatchObject({ version: serverVersion });
    expect(
      server.received.triggers.at(-1)!.body.requestId ?? server.received.triggers.at(-1)!.body.correlationId,
    ).toBe('corr-1');
  });

  it('broke no contract', () => {
    expect(server.received.violations).toEqual([]);
  });
});

describe.each([
  ['v1', v1, 1],
  ['v2', v2, 2],
] as const)("the %s client (a fixture) against today's server", (_name, client, version) => {
  let server: SigDevServer;
  let url: string;
  beforeAll(async () => {
    server = createSigDevServer({ registry });
    url = await server.listen();
  });
  afterAll(() => server.close());

  it('ingests in batches and over a stream', async () => {
    const batch = await client.ingestBatch(url, `legacy-batch-${version}`, ['a', 'b']);
    expect(batch).toMatchObject({ status: 202, body: { accepted: 2, duplicates: 0, replayed: false } });
    expect(batch.body).not.toHaveProperty('warnings');
    const replies = await client.ingestStream(url, `legacy-stream-${version}`, ['c', 'd']);
    expect(replies.map((r) => r.type)).toEqual(['ready', 'ack', 'ack']);
    expect(server.received.records.get('d')).toMatchObject({
      version,
      record: { source: 'legacy/producer' },
    });
  });

  it('registers a claim, links a receipt, reads it back in its own shape', async () => {
    const made = await client.registerClaim(url, `legacy-claim-${version}`, digest('e'));
    expect(made.status).toBe(201);
    const linked = await client.linkReceipt(url, made.body.id as string, digest('f'));
    expect(linked.status).toBe(200);
    const read = await client.getClaim(url, made.body.id as string);
    expect(read.body.receipts).toEqual([
      {
        digest: digest('f'),
        runId: 'run-legacy',
        taskId: 'build',
        uri: 'https://maestro.example/receipts/legacy',
      },
    ]);
    expect(read.body).not.toHaveProperty('policy');
  });

  it('triggers a runbook', async () => {
    const answer = await client.trigger(url, 'token');
    expect(answer).toMatchObject({ status: 202, body: { status: 'queued' } });
    expect(answer.body).not.toHaveProperty('correlationId');
  });

  it('broke no contract', () => {
    expect(server.received.violations).toEqual([]);
  });
});

it('today’s client refuses to send what an older server cannot hold, before sending anything', async () => {
  const server = createSigDevServer({ registry, versions: { ingest: [1, 2] } });
  const url = await server.listen();
  try {
    const trace = { ...todaysRecords('t')[0]!, kind: 'trace' as const };
    await expect(
      ingestBatches({ baseUrl: url }, [trace], { idempotencyKey: 'n2-trace-1' }),
    ).rejects.toBeInstanceOf(SigNotRepresentableError);
    expect(server.received.batches.size).toBe(0);
  } finally {
    await server.close();
  }
});
