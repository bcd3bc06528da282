/**
 * OTLP export from a real `maestro server` process, configured only by the standard variables
 * (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_METRIC_EXPORT_INTERVAL,
 * OTEL_RESOURCE_ATTRIBUTES), to a real OTLP/HTTP receiver (otlp-receiver.ts): after a run
 * succeeds, the receiver holds the CI/CD conventions' metrics under their OpenTelemetry names
 * and attributes, the run's spans, and the resource `service.name=summit-maestro`; no run id is
 * an attribute of any metric point. Without the endpoint nothing is sent.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServerProcess, stopServerProcess } from '../helpers/server-process.ts';
import { attribute, startOtlpReceiver, type OtlpMetric, type OtlpReceiver } from './otlp-receiver.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-otlp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const baseEnv = { PATH: process.env.PATH, HOME: dir, LANG: 'C.UTF-8' };
const hello = readFileSync('examples/quickstart/.maestro/workflows/hello.yaml', 'utf8');
const POLL = { timeout: 30_000, interval: 100 };

// Each attempt gets its span's W3C context: the task hands what it saw back as outputs.
const traced = `apiVersion: maestro/v1
kind: Workflow
metadata:
  name: traced
  namespace: quickstart
spec:
  triggers:
    manual: true
  defaults:
    runner: local
    timeout: 30s
  tasks:
    - id: show
      run: echo "traceparent=$TRACEPARENT" >> "$MAESTRO_OUTPUT"
      outputs: [traceparent]
`;

interface Detail {
  run: { status: string };
  tasks: { id: string; attempts: { attempt: number; outputs: Record<string, string> }[] }[];
}

async function runWorkflow(
  server: { url: string; auth: Record<string, string> },
  body: string,
): Promise<{ id: string; detail: Detail }> {
  const wf = await fetch(`${server.url}/v1/workflows`, {
    method: 'POST',
    body,
    headers: { ...server.auth, 'content-type': 'application/yaml' },
  });
  const { digest } = (await wf.json()) as { digest: string };
  const started = await fetch(`${server.url}/v1/runs`, {
    method: 'POST',
    body: JSON.stringify({ workflow: digest }),
    headers: { ...server.auth, 'content-type': 'application/json' },
  });
  const { id } = (await started.json()) as { id: string };
  let detail: Detail | undefined;
  await expect
    .poll(async () => {
      const answer = await fetch(`${server.url}/v1/runs/${id}`, { headers: server.auth });
      detail = (await answer.json()) as Detail;
      return detail.run.status;
    }, POLL)
    .toBe('succeeded');
  return { id, detail: detail! };
}

async function runHello(server: { url: string; auth: Record<string, string> }): Promise<string> {
  const wf = await fetch(`${server.url}/v1/workflows`, {
    method: 'POST',
    body: hello,
    headers: { ...server.auth, 'content-type': 'application/yaml' },
  });
  const { digest } = (await wf.json()) as { digest: string };
  const started = await fetch(`${server.url}/v1/runs`, {
    method: 'POST',
    body: JSON.stringify({ workflow: digest }),
    headers: { ...server.auth, 'content-type': 'application/json' },
  });
  const { id } = (await started.json()) as { id: string };
  await expect
    .poll(async () => {
      const answer = await fetch(`${server.url}/v1/runs/${id}`, { headers: server.auth });
      return ((await answer.json()) as { run: { status: string } }).run.status;
    }, POLL)
    .toBe('succeeded');
  return id;
}

const allMetrics = (receiver: OtlpReceiver): OtlpMetric[] =>
  receiver.metrics.flatMap((r) =>
    r.resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics)),
  );

// Each test starts a `maestro server` process: generous bounds for a loaded machine (not timing assertions).
describe('OTLP export', { timeout: 180_000 }, () => {
  it('sends the CI/CD metrics and the run’s spans with a real service.name when OTEL_EXPORTER_OTLP_ENDPOINT is set', async () => {
    const receiver = await startOtlpReceiver();
    const server = await startServerProcess(join(dir, 'on'), {
      ...baseEnv,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '300',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test',
    });
    try {
      const runId = await runHello(server);
      await expect
        .poll(() => {
          const duration = allMetrics(receiver).filter((m) => m.name === 'cicd.pipeline.run.duration');
          return duration.some((m) =>
            m.histogram?.dataPoints.some(
              (p) => attribute(p.attributes, 'cicd.pipeline.result') === 'success',
            ),
          );
        }, POLL)
        .toBe(true);
      // Cumulative: the last export holds every series so far.
      const metrics = receiver.metrics
        .at(-1)!
        .resourceMetrics.flatMap((rm) => rm.scopeMetrics.flatMap((s) => s.metrics));
      const duration = metrics.find((m) => m.name === 'cicd.pipeline.run.duration')!;
      expect(duration.unit).toBe('s');
      const point = duration.histogram!.dataPoints.find(
        (p) => attribute(p.attributes, 'cicd.pipeline.result') === 'success',
      )!;
      expect(attribute(point.attributes, 'cicd.pipeline.name')).toBe('hello');
      expect(Number(point.count)).toBe(1);
      expect(point.bucketCounts!.length).toBe(point.explicitBounds!.length + 1);
      const names = new Set(metrics.map((m) => m.name));
      for (const name of ['cicd.pipeline.run.active', 'cicd.worker.count', 'maestro.task.run.duration'])
        expect(names).toContain(name);
      const active = metrics.find((m) => m.name === 'cicd.pipeline.run.active')!;
      expect(active.sum?.isMonotonic).toBeFalsy();
      // Node's process metrics stay on /metrics: OTLP carries Maestro's and the conventions' only.
      expect([...names].every((n) => n.startsWith('cicd.') || n.startsWith('maestro.'))).toBe(true);
      // Bounded cardinality over OTLP too: the run id is no point's attribute value.
      const values = metrics.flatMap((m) =>
        [...(m.sum?.dataPoints ?? []), ...(m.histogram?.dataPoints ?? [])].flatMap((p) =>
          (p.attributes ?? []).map((a) => attribute([a], a.key)),
        ),
      );
      expect(values).not.toContain(runId);
      const resource = receiver.metrics[0]!.resourceMetrics[0]!.resource;
      expect(attribute(resource.attributes, 'service.name')).toBe('summit-maestro');
      expect(attribute(resource.attributes, 'deployment.environment.name')).toBe('test');
      expect(attribute(resource.attributes, 'service.instance.id')).toMatch(/^[0-9a-f-]{36}$/);
      // Traces go to the same endpoint with the same resource.
      await expect.poll(() => receiver.traces.length, POLL).toBeGreaterThan(0);
      const spans = receiver.traces.flatMap((t) => t.resourceSpans);
      expect(attribute(spans[0]!.resource.attributes, 'service.name')).toBe('summit-maestro');
      expect(spans.flatMap((s) => s.scopeSpans.flatMap((x) => x.spans)).length).toBeGreaterThan(0);
      expect(receiver.rejected).toEqual([]);
    } finally {
      expect(await stopServerProcess(server)).toBe(0);
      await receiver.close();
    }
  });

  it('hands each attempt its span as TRACEPARENT, under the run span, with the CI/CD attributes', async () => {
    const receiver = await startOtlpReceiver();
    const server = await startServerProcess(join(dir, 'traced'), {
      ...baseEnv,
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '100',
      // Where the console is: each attempt span links to its task's page there.
      MAESTRO_PUBLIC_URL: 'https://maestro.example.com/ci/',
    });
    try {
      const { id, detail } = await runWorkflow(server, traced);
      const seen = detail.tasks.find((t) => t.id === 'show')!.attempts[0]!.outputs.traceparent!;
      const [version, traceId, parentId, flags] = seen.split('-');
      expect(version).toBe('00');
      expect(flags).toBe('01');
      const spans = () =>
        receiver.traces.flatMap((t) => t.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((x) => x.spans)));
      const runSpan = () =>
        spans().find(
          (s) => s.name === 'maestro.run' && attribute(s.attributes, 'cicd.pipeline.run.id') === id,
        );
      await expect.poll(() => runSpan() !== undefined, POLL).toBe(true);
      await expect.poll(() => spans().some((s) => s.spanId === parentId), POLL).toBe(true);
      const attemptSpan = spans().find((s) => s.spanId === parentId)!;
      // The task's parent is its attempt span, in the run's trace, under the run span.
      expect(attemptSpan.name).toBe('maestro.attempt');
      expect(traceId).toBe(runSpan()!.traceId);
      expect(attemptSpan.traceId).toBe(traceId);
      expect(attemptSpan.parentSpanId).toBe(runSpan()!.spanId);
      expect(attribute(runSpan()!.attributes, 'cicd.pipeline.name')).toBe('traced');
      expect(attribute(attemptSpan.attributes, 'cicd.pipeline.name')).toBe('traced');
      expect(attribute(attemptSpan.attributes, 'cicd.pipeline.run.id')).toBe(id);
      expect(attribute(attemptSpan.attributes, 'cicd.pipeline.task.name')).toBe('show');
      expect(attribute(attemptSpan.attributes, 'cicd.pipeline.task.run.id')).toMatch(/.+/);
      expect(attribute(attemptSpan.attributes, 'cicd.pipeline.task.run.result')).toBe('success');
      const attempt = detail.tasks.find((t) => t.id === 'show')!.attempts[0]!;
      expect(attribute(attemptSpan.attributes, 'cicd.pipeline.task.run.url.full')).toBe(
        `https://maestro.example.com/ci/runs/${id}?task=show&attempt=${attempt.attempt}`,
      );
      // A person finds the trace id in the run's log and in the server's structured log.
      const logs = await fetch(`${server.url}/v1/runs/${id}/logs`, { headers: server.auth });
      expect(await logs.text()).toContain(`trace id ${traceId}`);
      const lines = server
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { runId?: string; traceId?: string });
      expect(lines.some((l) => l.runId === id && l.traceId === traceId)).toBe(true);
      expect(receiver.rejected).toEqual([]);
    } finally {
      expect(await stopServerProcess(server)).toBe(0);
      await receiver.close();
    }
  });

  it('sends nothing without an endpoint, and OTEL_SERVICE_NAME names the service', async () => {
    const receiver = await startOtlpReceiver();
    const quiet = await startServerProcess(join(dir, 'off'), {
      ...baseEnv,
      OTEL_METRIC_EXPORT_INTERVAL: '200',
    });
    try {
      await runHello(quiet);
    } finally {
      expect(await stopServerProcess(quiet)).toBe(0);
    }
    expect(receiver.metrics.length + receiver.traces.length).toBe(0);
    const named = await startServerProcess(join(dir, 'named'), {
      ...baseEnv,
      OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: `${receiver.url}/v1/metrics`,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_METRIC_EXPORT_INTERVAL: '60000',
      OTEL_SERVICE_NAME: 'maestro-eu-1',
    });
    // The interval is long: the export on shutdown is the one that arrives.
    expect(await stopServerProcess(named)).toBe(0);
    expect(receiver.metrics.length).toBeGreaterThan(0);
    expect(attribute(receiver.metrics[0]!.resourceMetrics[0]!.resource.attributes, 'service.name')).toBe(
      'maestro-eu-1',
    );
    expect(receiver.traces.length).toBe(0);
    await receiver.close();
  });
});
