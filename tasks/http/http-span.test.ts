// The http task's span (tasks/telemetry/span.ts) read back in-process (runTask) against a local
// server: a child of the attempt's TRACEPARENT, with the HTTP conventions' attributes, and a
// failure's code as error.type.
import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { runTask } from '../../sdk/index.ts';
import { useLoopbackServer } from '../../test/helpers/loopback-http.ts';
import { childSpanOf, recordTaskSpans, TRACEPARENT } from '../../test/helpers/task-spans.ts';
import { http } from './index.ts';

const spans = recordTaskSpans();
let base = '';
const server = createServer((req, res) => void res.writeHead(req.url === '/missing' ? 404 : 200).end('ok'));
useLoopbackServer(server, (url) => (base = url));
const workspace = mkdtempSync(join(tmpdir(), 'maestro-http-span-'));

describe('the http task’s span', () => {
  it('is `HTTP <method>` under the attempt’s TRACEPARENT, with the status; a failure carries its code', async () => {
    spans.take();
    const ok = await runTask(
      http,
      { url: `${base}/ok`, method: 'POST', body: 'x' },
      { workspace, secrets: { TRACEPARENT } },
    );
    expect(ok.outcome, String(ok.error)).toBe('succeeded');
    const span = childSpanOf(spans.take(), 'http');
    expect([span.name, span.status.code]).toEqual(['HTTP POST', SpanStatusCode.OK]);
    expect(span.attributes).toEqual({
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
    });
    const missing = await runTask(http, { url: `${base}/missing` }, { workspace, secrets: { TRACEPARENT } });
    expect(missing.outcome).toBe('failed');
    const failed = childSpanOf(spans.take(), 'http');
    expect([failed.status.code, failed.attributes['http.response.status_code']]).toEqual([
      SpanStatusCode.ERROR,
      404,
    ]);
    expect(failed.attributes['error.type']).toBe((missing.error as { code: string }).code);
  });
});
