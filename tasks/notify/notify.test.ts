// tasks/notify in-process (runTask) against a real HTTP server on 127.0.0.1 that answers as a
// Slack incoming webhook does ("ok", 400 invalid_payload, 429 with Retry-After), on a fake clock.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanStatusCode } from '@opentelemetry/api';
import { createFakeClock, runTask } from '../../sdk/index.ts';
import { childSpanOf, recordTaskSpans, TRACEPARENT } from '../../test/helpers/task-spans.ts';
import { notify } from './index.ts';
import { retryAfterMs } from './deliver.ts';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}
const received: Received[] = [];
let answers: Array<{ status: number; body: string; headers?: Record<string, string> }> = [];
const server = createServer((req, res) => {
  let text = '';
  req.on('data', (c) => (text += c));
  req.on('end', () => {
    received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(text) });
    const answer = answers.shift() ?? { status: 200, body: 'ok' };
    res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(answer.body);
  });
});
let base = '';
const TOKEN_PATH = '/services/T000/B000/XXXXsecretXXXXtoken';
/** This machine's first non-loopback IPv4 address: a receiver there is "another host". */
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
const lan = createServer((req, res) => {
  received.push({ path: req.url ?? '', headers: req.headers, body: null });
  res.writeHead(200).end('ok');
});
let lanBase = '';
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  if (lanAddress) {
    await new Promise<void>((r) => lan.listen(0, lanAddress, r));
    lanBase = `http://${lanAddress}:${(lan.address() as AddressInfo).port}`;
  }
});
afterAll(() => new Promise<void>((r) => server.close(() => lan.close(() => r()))));

const spans = recordTaskSpans();
const secrets = () => ({ SLACK_WEBHOOK_URL: `${base}${TOKEN_PATH}` });

async function untilAsleep(clock: { sleepers: number }): Promise<void> {
  for (let i = 0; i < 10_000 && clock.sleepers === 0; i++) await new Promise((r) => setImmediate(r));
}

describe('tasks/notify against a Slack-compatible webhook receiver', () => {
  it('posts text and blocks as JSON with the idempotency key, and checkpoints the delivery', async () => {
    received.length = 0;
    const result = await runTask(
      notify,
      { text: 'deploy *1.2.3* done', blocks: [{ type: 'divider' }], idempotencyKey: 'run-1/announce' },
      { secrets: secrets() },
    );
    expect(result.outcome, String(result.error)).toBe('succeeded');
    expect(result.outputs).toEqual({ delivered: true, status: 200, attempts: 1 });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({
      path: TOKEN_PATH,
      headers: { 'content-type': 'application/json', 'idempotency-key': 'run-1/announce' },
      body: { text: 'deploy *1.2.3* done', blocks: [{ type: 'divider' }] },
    });
    expect(result.states).toEqual([{ delivered: true, status: 200 }]);
  });

  it('a 429 waits the Retry-After seconds on the task’s clock, then delivers', async () => {
    received.length = 0;
    answers = [{ status: 429, body: 'rate_limited', headers: { 'retry-after': '30' } }];
    const clock = createFakeClock();
    const running = runTask(notify, { text: 'hi' }, { secrets: secrets(), clock });
    await untilAsleep(clock);
    expect(received).toHaveLength(1);
    await clock.advance(29_999);
    expect(received).toHaveLength(1); // not a millisecond early
    await clock.advance(1);
    const result = await running;
    expect(result.outputs).toEqual({ delivered: true, status: 200, attempts: 2 });
    expect(result.logs.map((l) => l.message)).toContain(
      `notify: 127.0.0.1:${new URL(base).port} answered 429; retrying in 30000 ms`,
    );
  });

  it('a 400 is the message’s fault: not retried, the receiver’s answer quoted, the URL never', async () => {
    received.length = 0;
    answers = [{ status: 400, body: 'invalid_payload' }];
    const result = await runTask(notify, { text: 'x' }, { secrets: secrets() });
    expect(received).toHaveLength(1);
    expect(result.error).toMatchObject({ code: 'notify_rejected', retryable: false, fault: 'user' });
    expect((result.error as Error).message).toBe(
      `127.0.0.1:${new URL(base).port} answered 400 ("invalid_payload") after 1 attempt(s)`,
    );
    expect(JSON.stringify([String(result.error), result.messages])).not.toContain('XXXXsecretXXXXtoken');
  });

  it('a redirect is not followed (it would carry the message elsewhere)', async () => {
    received.length = 0;
    answers = [{ status: 302, body: '', headers: { location: 'http://elsewhere.example/' } }];
    const result = await runTask(notify, { text: 'x' }, { secrets: secrets() });
    expect(result.error).toMatchObject({
      code: 'notify_rejected',
      hint: expect.stringContaining('redirect'),
    });
    expect(received).toHaveLength(1);
  });

  it('a retry after a delivered attempt sends nothing again (the checkpoint says delivered)', async () => {
    received.length = 0;
    const result = await runTask(
      notify,
      { text: 'once' },
      { secrets: secrets(), state: { delivered: true, status: 200 } },
    );
    expect(result.outputs).toEqual({ delivered: true });
    expect(received).toHaveLength(0);
  });

  it('posts a payload as given to a plain webhook; the URL secret can be named; every input problem has a path', async () => {
    received.length = 0;
    const result = await runTask(
      notify,
      { kind: 'webhook', payload: { event: 'deployed', version: '1.2.3' }, urlSecret: 'HOOK' },
      { secrets: { HOOK: `${base}/hook` } },
    );
    expect(result.outcome).toBe('succeeded');
    expect(received[0]).toMatchObject({ path: '/hook', body: { event: 'deployed', version: '1.2.3' } });
    expect((await runTask(notify, { kind: 'webhook', text: 'x' })).errors).toEqual([
      { path: '/payload', message: 'webhook needs payload' },
      { path: '/text', message: 'kind webhook does not take text' },
    ]);
    expect((await runTask(notify, {})).errors).toEqual([
      { path: '/text', message: 'slack needs text or blocks' },
    ]);
    expect(
      (await runTask(notify, { text: 'x' }, { secrets: { SLACK_WEBHOOK_URL: 'not a url' } })).error,
    ).toMatchObject({
      code: 'notify_url_invalid',
      message: 'the secret SLACK_WEBHOOK_URL is not a URL',
    });
  });

  it('the attack: a webhook URL (its token is its path) over plain http:// to another host is refused, nothing sent', async () => {
    received.length = 0;
    for (const url of [
      'http://hooks.example/services/T1/B1/tok',
      ...(lanBase ? [`${lanBase}${TOKEN_PATH}`] : []),
    ]) {
      const refused = await runTask(notify, { text: 'x' }, { secrets: { SLACK_WEBHOOK_URL: url } });
      expect(refused.error, url).toMatchObject({
        code: 'notify_url_insecure',
        retryable: false,
        fault: 'user',
      });
      expect(JSON.stringify([refused, String(refused.error)])).not.toContain('/services/');
    }
    expect(received).toEqual([]); // the receiver on this machine's network address got nothing
  });

  it('a delivery is a span under the attempt’s TRACEPARENT naming the host only, never the URL’s token; a failure’s code', async () => {
    spans.take();
    received.length = 0;
    const ok = await runTask(notify, { text: 'span' }, { secrets: { ...secrets(), TRACEPARENT } });
    expect(ok.outcome, String(ok.error)).toBe('succeeded');
    const span = childSpanOf(spans.take(), 'notify');
    expect([span.name, span.status.code]).toEqual(['notify slack', SpanStatusCode.OK]);
    expect(span.attributes).toEqual({
      'notify.kind': 'slack',
      'server.address': '127.0.0.1',
      'http.response.status_code': 200,
    });
    answers = [{ status: 400, body: 'invalid_payload' }];
    await runTask(notify, { text: 'x' }, { secrets: { ...secrets(), TRACEPARENT } });
    const failed = childSpanOf(spans.take(), 'notify');
    expect([failed.status.code, failed.attributes['error.type']]).toEqual([
      SpanStatusCode.ERROR,
      'notify_rejected',
    ]);
    expect(JSON.stringify([span, failed].map((s) => [s.name, s.attributes]))).not.toContain(
      'XXXXsecretXXXXtoken',
    );
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(retryAfterMs('7', 0)).toBe(7000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(
      10_000,
    );
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    expect(retryAfterMs(null, 0)).toBeUndefined();
  });

  it('its spec is the catalog’s (task.json)', () => {
    const manifest = JSON.parse(readFileSync(new URL('./task.json', import.meta.url), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(manifest.inputs).toEqual(notify.spec.inputs);
    expect(manifest.outputs).toEqual(Object.keys(notify.spec.outputs.properties ?? {}));
    expect([manifest.name, manifest.version, manifest.description]).toEqual([
      notify.name,
      notify.version,
      notify.description,
    ]);
  });
});
