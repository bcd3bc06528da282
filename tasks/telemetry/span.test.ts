// The task span exported over OTLP/HTTP to a collector the manifest names in env:, a child of
// TRACEPARENT: a real HTTP server on 127.0.0.1 stands for the collector and reads what arrives.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaskError } from '../../sdk/index.ts';
import { inTaskSpan } from './span.ts';

interface OtlpBody {
  resourceSpans: Array<{
    scopeSpans: Array<{ spans: Array<{ name: string; traceId: string; attributes: unknown[] }> }>;
  }>;
}
const bodies: Array<{ path: string; body: OtlpBody }> = [];
const collector = createServer((req, res) => {
  let text = '';
  req.on('data', (c) => (text += c));
  req.on('end', () => {
    bodies.push({ path: req.url ?? '', body: JSON.parse(text) });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
let endpoint = '';
beforeAll(async () => {
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => collector.close(() => r())));

const ctxOf = (env: Record<string, string>) => ({
  secret: (name: string) => {
    if (!Object.hasOwn(env, name)) throw new TaskError('secret_missing', `no ${name}`);
    return env[name] as string;
  },
});

describe('inTaskSpan', () => {
  it('exports the span to OTEL_EXPORTER_OTLP_ENDPOINT before it returns, under TRACEPARENT, failure and all', async () => {
    bodies.length = 0;
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      TRACEPARENT: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    };
    await expect(
      inTaskSpan(
        ctxOf(env),
        'orders publish',
        { task: 'kafka', attributes: { 'messaging.system': 'kafka' } },
        () => Promise.reject(new TaskError('kafka_rejected', 'the broker said no')),
      ),
    ).rejects.toMatchObject({ code: 'kafka_rejected' });
    expect(bodies).toHaveLength(1); // flushed before inTaskSpan settled: the process may exit now
    expect(bodies[0]?.path).toBe('/v1/traces');
    const span = bodies[0]?.body.resourceSpans[0]?.scopeSpans[0]?.spans[0];
    expect(span).toMatchObject({
      name: 'orders publish',
      parentSpanId: 'b7ad6b7169203331',
      status: { code: 2 },
    });
    expect(span?.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span?.attributes).toEqual(
      expect.arrayContaining([
        { key: 'messaging.system', value: { stringValue: 'kafka' } },
        { key: 'error.type', value: { stringValue: 'kafka_rejected' } },
      ]),
    );
    expect(JSON.stringify(bodies)).not.toContain('the broker said no');
  });

  it('without an endpoint nothing is sent, and the work’s result comes back', async () => {
    bodies.length = 0;
    expect(await inTaskSpan(ctxOf({}), 'x', { task: 't', attributes: {} }, async () => 42)).toBe(42);
    expect(bodies).toHaveLength(0);
  });
});
