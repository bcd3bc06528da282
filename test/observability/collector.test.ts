/**
 * One trace per run, read back from what a real OpenTelemetry Collector stored
 * (test/setup/otel-collector.ts: the OTLP receiver and the file exporter, built from the Go module
 * proxy by scripts/setup/otel-collector.sh). A real `maestro server` exports to it over OTLP/HTTP
 * (protobuf, the default) configured by OTEL_EXPORTER_OTLP_ENDPOINT alone; the test starts a run
 * through the API with a W3C traceparent, and the task sends a span of its own to the collector
 * under the TRACEPARENT it was given. All of them are one trace: the caller's span → the API
 * request's span → the run span → the attempt span → the task's span.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, stopServerProcess, type ServerProcess } from '../helpers/server-process.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { attr, startCollector, type Collector, type StoredSpan } from '../setup/otel-collector.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-otelcol-test-'));
const hex = (bytes: number) => randomBytes(bytes).toString('hex');
let collector: Collector;
let server: ServerProcess;

beforeAll(async () => {
  collector = await startCollector();
  server = await startServerProcess(join(dir, 'data'), {
    PATH: process.env.PATH,
    HOME: dir,
    LANG: 'C.UTF-8',
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_METRIC_EXPORT_INTERVAL: '300',
    OTEL_BSP_SCHEDULE_DELAY: '100',
  });
}, 90_000);

afterAll(async () => {
  if (server) expect(await stopServerProcess(server)).toBe(0);
  await collector?.stop();
  rmSync(dir, { recursive: true, force: true });
});

// The task's own span, as an instrumented task would send it: in the trace TRACEPARENT names,
// a child of the span it names (OTLP/JSON over HTTP with curl, as a task's SDK would over OTLP).
const ownSpan = (url: string) => `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: collected
  namespace: quickstart
spec:
  triggers:
    manual: true
  defaults:
    runner: local
    timeout: 60s
  tasks:
    - id: report
      run: |
        set -eu
        trace=$(echo "$TRACEPARENT" | cut -d- -f2)
        parent=$(echo "$TRACEPARENT" | cut -d- -f3)
        now=$(date +%s)000000000
        body='{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"the-task"}}]},"scopeSpans":[{"scope":{"name":"task"},"spans":[{"traceId":"'$trace'","spanId":"00f067aa0ba902b7","parentSpanId":"'$parent'","name":"task.work","kind":1,"startTimeUnixNano":"'$now'","endTimeUnixNano":"'$now'"}]}]}]}'
        curl -sSf -X POST -H 'content-type: application/json' --data "$body" ${url}/v1/traces
`;

async function startRun(manifest: string, headers: Record<string, string>): Promise<string> {
  const wf = await fetch(`${server.url}/v1/workflows`, {
    method: 'POST',
    body: manifest,
    headers: { ...server.auth, 'content-type': 'application/yaml' },
  });
  expect(wf.status).toBeLessThan(300);
  const { digest } = (await wf.json()) as { digest: string };
  const started = await fetch(`${server.url}/v1/runs`, {
    method: 'POST',
    body: JSON.stringify({ workflow: digest }),
    headers: { ...server.auth, ...headers, 'content-type': 'application/json' },
  });
  expect(started.status).toBe(202);
  return ((await started.json()) as { id: string }).id;
}

interface Detail {
  run: { status: string };
  traceId: string | null;
}

async function finished(id: string): Promise<Detail> {
  return waitFor(
    `run ${id} to succeed`,
    async () => {
      const detail = (await (
        await fetch(`${server.url}/v1/runs/${id}`, { headers: server.auth })
      ).json()) as Detail;
      if (['failed', 'cancelled', 'timed_out'].includes(detail.run.status))
        throw new Error(`run ${id} ${detail.run.status}`);
      return detail.run.status === 'succeeded' ? detail : undefined;
    },
    { timeoutMs: 60_000, explain: () => server.output() },
  );
}

const one = (spans: StoredSpan[], what: string, match: (s: StoredSpan) => boolean): StoredSpan => {
  const found = spans.filter(match);
  if (found.length !== 1) throw new Error(`expected one ${what}, found ${found.length}`);
  return found[0]!;
};

describe('one trace per run, in a real OpenTelemetry Collector', () => {
  it('continues the caller’s traceparent through the API request, the run, its attempt and the task’s own span', async () => {
    const traceId = hex(16);
    const callerSpan = hex(8);
    const id = await startRun(ownSpan(collector.url), { traceparent: `00-${traceId}-${callerSpan}-01` });
    const detail = await finished(id);
    // The run's trace id is a field of the run, and in its log.
    expect(detail.traceId).toBe(traceId);
    const logs = await (await fetch(`${server.url}/v1/runs/${id}/logs`, { headers: server.auth })).text();
    expect(logs).toContain(`trace id ${traceId}`);

    const inTrace = () => collector.spans().filter((s) => s.traceId === traceId);
    await waitFor(
      'the API request, run, attempt and task spans in the collector',
      () =>
        ['POST /v1/runs', 'maestro.run', 'maestro.attempt', 'task.work'].every((n) =>
          inTrace().some((s) => s.name === n),
        )
          ? true
          : undefined,
      {
        timeoutMs: 30_000,
        explain: () => JSON.stringify(collector.spans().map((s) => [s.name, s.traceId])) + collector.log(),
      },
    );
    const spans = inTrace();
    const request = one(spans, 'API request span', (s) => s.name === 'POST /v1/runs');
    const run = one(spans, 'run span', (s) => s.name === 'maestro.run');
    const attempt = one(spans, 'attempt span', (s) => s.name === 'maestro.attempt');
    const task = one(spans, 'task span', (s) => s.name === 'task.work');
    // The chain: caller → request → run → attempt → the task's own span.
    expect(request.parentSpanId).toBe(callerSpan);
    expect(request.kind).toBe(2); // SPAN_KIND_SERVER
    expect(attr(request.attributes, 'http.route')).toBe('/v1/runs');
    expect(attr(request.attributes, 'http.response.status_code')).toBe('202');
    expect(run.parentSpanId).toBe(request.spanId);
    expect(attempt.parentSpanId).toBe(run.spanId);
    expect(task.parentSpanId).toBe(attempt.spanId);
    // The CI/CD semantic conventions' attributes.
    expect(attr(run.attributes, 'cicd.pipeline.name')).toBe('collected');
    expect(attr(run.attributes, 'cicd.pipeline.run.id')).toBe(id);
    expect(attr(attempt.attributes, 'cicd.pipeline.run.id')).toBe(id);
    expect(attr(attempt.attributes, 'cicd.pipeline.task.name')).toBe('report');
    expect(attr(attempt.attributes, 'cicd.pipeline.task.run.id')).toMatch(/.+/);
    expect(attr(attempt.attributes, 'cicd.pipeline.task.run.result')).toBe('success');
    // A real service.name on Maestro's spans; the task's span keeps its own.
    for (const s of [request, run, attempt]) expect(attr(s.resource, 'service.name')).toBe('summit-maestro');
    expect(attr(task.resource, 'service.name')).toBe('the-task');

    // Metrics arrive over OTLP too, with the same resource.
    const metric = await waitFor(
      'cicd.pipeline.run.duration in the collector',
      () => collector.metrics().find((m) => m.name === 'cicd.pipeline.run.duration'),
      { timeoutMs: 30_000, explain: () => collector.log() },
    );
    expect(attr(metric.resource, 'service.name')).toBe('summit-maestro');
  });

  it('starts a trace of its own for a run without a valid traceparent', async () => {
    const forged = `00-${hex(16)}-${hex(8)}-01-$(touch /tmp/pwned)`;
    const id = await startRun(ownSpan(collector.url), { traceparent: forged });
    const detail = await finished(id);
    expect(detail.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(forged).not.toContain(detail.traceId!);
    const request = await waitFor('the request span of the second run', () =>
      collector.spans().find((s) => s.name === 'POST /v1/runs' && s.traceId === detail.traceId),
    );
    expect(request.parentSpanId ?? '').toBe('');
  });
});
