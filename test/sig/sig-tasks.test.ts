/**
 * tasks/sig.ingest and tasks/sig.export in-process (runTask) against the SIG reference server:
 * what the server kept is read back. Checkpoints: an ingest that fails at record 600 of 1,000
 * resumes at its second batch; an export killed after its claim does not register it twice.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createSigDevServer, type SigDevServer, type SigDevServerOptions } from '../../api/index.ts';
import { SpanStatusCode } from '@opentelemetry/api';
import { createFakeClock, runTask } from '../../sdk/index.ts';
import { childSpanOf, recordTaskSpans, TRACEPARENT } from '../helpers/task-spans.ts';
import { sigIngest } from '../../tasks/sig.ingest/index.ts';
import { sigExport } from '../../tasks/sig.export/index.ts';
import * as ingestSpec from '../../tasks/sig.ingest/spec.ts';
import * as exportSpec from '../../tasks/sig.export/spec.ts';

const servers: SigDevServer[] = [];
const spans = recordTaskSpans();
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
/** A started reference server; `seen` lists each request (method, path, authorization). */
async function start(options: SigDevServerOptions = {}) {
  const server = createSigDevServer(options);
  const seen: Array<{ request: string; auth: string | undefined }> = [];
  server.app.addHook(
    'onRequest',
    async (req) => void seen.push({ request: `${req.method} ${req.url}`, auth: req.headers.authorization }),
  );
  servers.push(server);
  return { server, seen, url: await server.listen() };
}

const records = (n: number, bad = -1) =>
  Array.from({ length: n }, (_, i) => ({
    id: `r${i}`,
    kind: 'metric',
    occurredAt: i === bad ? 'yesterday' : '2026-02-01T03:00:00Z',
    payload: { i },
  }));

describe('task.json and the spec agree', () => {
  it.each([
    ['sig.ingest', ingestSpec],
    ['sig.export', exportSpec],
  ])('%s', (name, spec) => {
    const json = JSON.parse(readFileSync(new URL(`../../tasks/${name}/task.json`, import.meta.url), 'utf8'));
    expect(json.inputs).toEqual(spec.inputs);
    expect(json.outputs).toEqual(Object.keys(spec.outputs.properties));
  });
});

describe('tasks/sig.ingest', () => {
  it('sends bounded batches keyed <key>.<i>, fills in the producer, and presents the identity', async () => {
    const { server, url, seen } = await start();
    const result = await runTask(sigIngest, {
      endpoint: url,
      identity: 'maestro:data/etl/handoff',
      records: records(1200),
      idempotencyKey: 'etl.2026-02-01',
    });
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(result.outputs).toMatchObject({ version: 3, accepted: 1200, batches: 3, resumedFromBatch: 0 });
    expect([...server.received.batches.keys()]).toEqual([
      'etl.2026-02-01.0',
      'etl.2026-02-01.1',
      'etl.2026-02-01.2',
    ]);
    expect(server.received.records.get('r7')!.record).toMatchObject({ producer: { name: 'maestro' } });
    expect(new Set(seen.map((s) => s.auth))).toEqual(new Set(['Bearer maestro:data/etl/handoff']));
    expect(result.states.at(-1)).toMatchObject({ nextBatch: 3, accepted: 1200 });
  });

  it('fails at record 600 of 1,000 after checkpointing batch 0, and the retry starts at batch 1', async () => {
    const { server, url, seen } = await start();
    const inputs = { endpoint: url, idempotencyKey: 'backfill-0001', batchSize: 500, version: 3 as const };
    const first = await runTask(sigIngest, { ...inputs, records: records(1000, 600) });
    expect(first.outcome).toBe('failed');
    expect(first.error).toMatchObject({ code: 'contract_violation', fault: 'user', retryable: false });
    expect(String(first.error)).not.toContain(url); // the endpoint is a secret
    expect(first.states).toEqual([
      { key: 'backfill-0001', nextBatch: 1, accepted: 500, duplicates: 0, replayed: 0 },
    ]);
    seen.length = 0;
    const retry = await runTask(
      sigIngest,
      { ...inputs, records: records(1000) },
      { state: first.states.at(-1) },
    );
    expect(retry.outcome, String(retry.error)).toBe('succeeded');
    expect(seen.map((s) => s.request)).toEqual(['POST /v3/ingest/batches']); // batch 1 only: not batch 0 again
    expect([...server.received.batches.keys()]).toEqual(['backfill-0001.0', 'backfill-0001.1']);
    expect(retry.outputs).toMatchObject({ accepted: 1000, resumedFromBatch: 1, batches: 1 });
    expect(server.received.records.size).toBe(1000);
  });

  it('a second run with the same key replays: SIG stores nothing twice', async () => {
    const { server, url } = await start();
    const inputs = { endpoint: url, idempotencyKey: 'nightly-0001', records: records(10) };
    await runTask(sigIngest, inputs);
    const again = await runTask(sigIngest, inputs);
    expect(again.outputs).toMatchObject({ replayed: 1, duplicates: 0 });
    expect(server.received.batches.size).toBe(1);
    expect(server.received.records.size).toBe(10);
  });

  it('waits out 503 with Retry-After on the task clock and streams with acknowledgements', async () => {
    const { server, url } = await start({ streamWindow: 8 });
    server.faults.failNext(1, 503, 7);
    const clock = createFakeClock();
    const running = runTask(
      sigIngest,
      { endpoint: url, idempotencyKey: 'stream-0001', mode: 'stream', records: records(50) },
      { clock },
    );
    for (let i = 0; i < 10_000 && clock.sleepers === 0; i++) await new Promise((r) => setImmediate(r));
    await clock.advance(7_000);
    const result = await running;
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(result.outputs).toMatchObject({ committedOffset: 49, accepted: 50 });
    expect(server.received.streams.get('stream-0001')).toMatchObject({ nextOffset: 50 });
  });

  it('reads NDJSON from an earlier task’s artifact and refuses a path out of it', async () => {
    const { server, url } = await start();
    const artifacts = mkdtempSync(join(tmpdir(), 'sig-ingest-'));
    mkdirSync(join(artifacts, 'enrich'));
    writeFileSync(
      join(artifacts, 'enrich', 'out.ndjson'),
      records(3)
        .map((r) => JSON.stringify(r))
        .join('\n'),
    );
    const ok = await runTask(
      sigIngest,
      { endpoint: url, idempotencyKey: 'artifact-0001', file: 'artifacts:enrich/out.ndjson' },
      { artifactsDir: artifacts },
    );
    expect(ok.outputs).toMatchObject({ accepted: 3 });
    const out = await runTask(
      sigIngest,
      { endpoint: url, idempotencyKey: 'artifact-0002', file: 'artifacts:../../etc/passwd' },
      { artifactsDir: artifacts },
    );
    expect(out.error).toMatchObject({ code: 'path_outside_workspace' });
    expect(server.received.records.size).toBe(3);
  });

  it('takes the endpoint from the secret SIG_INGEST_URL when with: names none', async () => {
    const { server, url } = await start();
    const result = await runTask(
      sigIngest,
      { idempotencyKey: 'secret-0001', records: records(2) },
      { secrets: { SIG_INGEST_URL: url, SIG_TOKEN: 'tok-1' } },
    );
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(server.received.records.size).toBe(2);
    const missing = await runTask(sigIngest, { idempotencyKey: 'secret-0002', records: records(2) });
    expect(missing.error).toMatchObject({ code: 'secret_missing' });
  });
});

describe('tasks/sig.export', () => {
  it('registers a disclosure claim about the bundle with its policy, records the event, links receipts', async () => {
    const { server, url } = await start();
    const workspace = mkdtempSync(join(tmpdir(), 'sig-export-'));
    writeFileSync(join(workspace, 'bundle.tgz'), 'bundle bytes');
    const digest = `sha256:${'a'.repeat(64)}`;
    const result = await runTask(
      sigExport,
      {
        requestId: 'req-42',
        endpoint: url,
        identity: 'secret-workload-token',
        file: 'bundle.tgz',
        policy: { purpose: 'disclosure', authority: 'legal:ombuds', license: 'internal' },
        receipts: [{ runId: 'r-1', taskId: 'package', digest }],
      },
      { workspace },
    );
    expect(result.outcome, String(result.error)).toBe('succeeded');
    const claim = server.received.claims.get(result.outputs.claimId as string)!;
    expect(claim).toMatchObject({
      kind: 'disclosure',
      subject: {
        name: 'bundle.tgz',
        digest: `sha256:${createHash('sha256').update('bundle bytes').digest('hex')}`,
      },
      policy: { purpose: 'disclosure', authority: 'legal:ombuds', license: 'internal' },
      receipts: [expect.objectContaining({ digest, runId: 'r-1', taskId: 'package' })],
    });
    expect(JSON.stringify(claim)).not.toContain('secret-workload-token');
    expect(server.received.records.get('disclosure.exported.req-42')!.record.payload).toMatchObject({
      claimId: claim.id,
    });
  });

  it('the claim carries the run’s policy context (ctx.policy), not a second copy in with:', async () => {
    const { server, url } = await start();
    const policy = { purpose: 'disclosure', authority: 'legal:ombuds', license: 'internal' };
    const result = await runTask(sigExport, { requestId: 'req-50', endpoint: url }, { policy });
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(server.received.claims.get(result.outputs.claimId as string)!.policy).toEqual(policy);
    // A with: policy claiming another purpose than the run was checked under is refused, before SIG.
    const before = server.received.claims.size;
    const other = await runTask(
      sigExport,
      { requestId: 'req-51', endpoint: url, policy: { ...policy, purpose: 'marketing' } },
      { policy },
    );
    expect(other.outcome).toBe('failed');
    expect(other.error).toMatchObject({ code: 'sig_export_policy_mismatch' });
    expect(String(other.error)).toContain('purpose=disclosure');
    expect(server.received.claims.size).toBe(before);
  });

  it('a retry after the claim skips registering it; a re-run gets the same claim', async () => {
    const { server, url, seen } = await start();
    const first = await runTask(sigExport, { requestId: 'req-43', endpoint: url });
    expect(first.outputs).toMatchObject({ created: true });
    seen.length = 0;
    const retry = await runTask(
      sigExport,
      { requestId: 'req-43', endpoint: url },
      { state: first.states[0] },
    );
    expect(retry.outputs.claimId).toBe(first.outputs.claimId);
    expect(seen.filter((s) => s.request.startsWith('POST /v3/claims'))).toEqual([]);
    const rerun = await runTask(sigExport, { requestId: 'req-43', endpoint: url });
    expect(rerun.outputs).toMatchObject({ claimId: first.outputs.claimId, created: false });
    expect(server.received.claims.size).toBe(1);
  });
});

describe('the spans of sig.ingest and sig.export', () => {
  it('each run is a span under the attempt’s TRACEPARENT naming SIG’s host only, with what SIG accepted; a failure’s code', async () => {
    const { url } = await start();
    const host = new URL(url).host;
    spans.take();
    const ingest = await runTask(
      sigIngest,
      { endpoint: url, records: records(3), idempotencyKey: 'span-0001' },
      { secrets: { TRACEPARENT } },
    );
    expect(ingest.outcome, String(ingest.error)).toBe('succeeded');
    const span = childSpanOf(spans.take(), 'sig.ingest');
    expect([span.name, span.status.code]).toEqual(['sig.ingest batch', SpanStatusCode.OK]);
    expect(span.attributes).toEqual({
      'server.address': host,
      'maestro.sig.mode': 'batch',
      'maestro.sig.version': 3,
      'maestro.sig.accepted': 3,
    });
    const exported = await runTask(
      sigExport,
      { requestId: 'req-span', endpoint: url },
      { secrets: { TRACEPARENT } },
    );
    expect(exported.outcome, String(exported.error)).toBe('succeeded');
    const exportSpan = childSpanOf(spans.take(), 'sig.export');
    expect([exportSpan.name, exportSpan.attributes]).toEqual([
      'sig.export',
      { 'server.address': host, 'maestro.sig.created': true, 'maestro.sig.linked': 0 },
    ]);
    const bad = await runTask(
      sigIngest,
      { endpoint: url, records: records(2, 1), idempotencyKey: 'span-0002', version: 3 },
      { secrets: { TRACEPARENT } },
    );
    expect(bad.outcome).toBe('failed');
    const failed = childSpanOf(spans.take(), 'sig.ingest');
    expect([failed.status.code, failed.attributes['error.type']]).toEqual([
      SpanStatusCode.ERROR,
      'contract_violation',
    ]);
  });
});
