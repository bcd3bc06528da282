import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import type { IngressLimits } from '../app/index.ts';
import { SECRET, startHarness, type Harness } from './github-standin/app-harness.ts';
import { signedDelivery } from './github-standin/index.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WRONG = `sha256=${'ab'.repeat(32)}`;
const MB25 = 25 * 1024 * 1024;

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Starts a webhook POST and returns it unfinished, with its answer as a promise. */
function open(
  h: Harness,
  headers: Record<string, string | number>,
): { req: ClientRequest; answer: Promise<Answer> } {
  const url = new URL(`${h.appUrl}/api/github/webhooks`);
  const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
  answer.catch(() => {}); // a test that cuts the request off awaits nothing more from it
  req.flushHeaders();
  return { req, answer };
}

function github(extra: Record<string, string | number>): Record<string, string | number> {
  return {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': `d-${Math.random().toString(36).slice(2)}`,
    'x-hub-signature-256': WRONG,
    ...extra,
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !condition(); i += 1) await sleep(25);
  expect(condition()).toBe(true);
}

describe('webhook ingress bounds (the real app over HTTP)', () => {
  let h: Harness | undefined;
  const start = async (ingress: Partial<IngressLimits> = {}) => (h = await startHarness({ ingress }));
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('refuses a missing signature (401) and a malformed one (400) before reading a byte of the body', async () => {
    const app = await start();
    // The body is declared but never sent: an answer proves it was not waited for.
    const { 'x-hub-signature-256': _none, ...unsigned } = github({ 'content-length': 1000 });
    const missing = open(app, unsigned);
    expect((await missing.answer).status).toBe(401);
    expect(JSON.parse((await missing.answer).body)).toMatchObject({ code: 'signature_missing' });
    const malformed = open(app, github({ 'content-length': 1000, 'x-hub-signature-256': 'sha1=abc' }));
    expect((await malformed.answer).status).toBe(400);
    expect(JSON.parse((await malformed.answer).body)).toMatchObject({ code: 'signature_malformed' });
    missing.req.destroy();
    malformed.req.destroy();
    expect(app.standin.requests).toEqual([]);
  });

  it('refuses a Content-Length above 25 MB with 413 before buffering anything', async () => {
    const app = await start();
    const big = open(app, github({ 'content-length': MB25 + 1 }));
    expect((await big.answer).status).toBe(413);
    expect((await big.answer).headers.connection).toBe('close');
    big.req.destroy();
  });

  it('cuts off a body without Content-Length that grows past 25 MB with 413, and deletes its spool', async () => {
    const app = await start();
    const chunked = open(app, github({ 'transfer-encoding': 'chunked' }));
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    let refused = false;
    void chunked.answer.then(
      () => (refused = true),
      () => {},
    );
    for (let sent = 0; sent <= MB25 && !refused; sent += chunk.length)
      if (!chunked.req.write(chunk)) await new Promise((r) => chunked.req.once('drain', r));
    expect((await chunked.answer).status).toBe(413);
    chunked.req.destroy();
    await until(() => readdirSync(join(app.dataDir, 'ingress-spool')).length === 0);
  });

  it('cuts off a body that does not arrive within the deadline (slow loris) with 408 and deletes its spool', async () => {
    const app = await start({ bodyTimeoutMs: 400 });
    const slow = open(app, github({ 'content-length': 1024 * 1024 }));
    slow.req.write(Buffer.alloc(300 * 1024, 0x20)); // past the in-memory size: spooled
    await until(() => readdirSync(join(app.dataDir, 'ingress-spool')).length === 1);
    const answer = await slow.answer;
    expect(answer.status).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ code: 'body_timeout' });
    await until(() => readdirSync(join(app.dataDir, 'ingress-spool')).length === 0);
    expect(app.runtime.app.ingress.unverified).toBe(0);
  });

  it('caps unverified bodies in flight: the next gets 503 with Retry-After, and a slot frees when one ends', async () => {
    const app = await start({ maxUnverified: 2, bodyTimeoutMs: 60_000 });
    const first = open(app, github({ 'content-length': 1000 }));
    const second = open(app, github({ 'content-length': 1000 }));
    await until(() => app.runtime.app.ingress.unverified === 2);
    const third = await open(app, github({ 'content-length': 1000 })).answer;
    expect(third.status).toBe(503);
    expect(third.headers['retry-after']).toBe('5');
    expect(JSON.parse(third.body)).toMatchObject({ code: 'busy' });
    // A genuine delivery is refused too while the slots are full (the cap cannot tell them apart
    // before verifying), and accepted once one of them is gone.
    first.req.destroy();
    await until(() => app.runtime.app.ingress.unverified === 1);
    const payload = { zen: 'Keep it logically awesome.', hook_id: 1 };
    const genuine = signedDelivery(SECRET, 'ping', payload);
    expect(await app.post(genuine.body, genuine.headers)).toBe(202);
    second.req.destroy();
    await until(() => app.runtime.app.ingress.unverified === 0);
  });

  it('answers a wrong signature over a complete body with 401 and stores nothing', async () => {
    const app = await start();
    const body = JSON.stringify({ zen: 'x', hook_id: 1 }).padEnd(400 * 1024, ' ');
    const forged = signedDelivery('not-the-secret', 'ping', JSON.parse(body));
    const status = await app.post(body, { ...forged.headers, 'x-hub-signature-256': WRONG });
    expect(status).toBe(401);
    expect(await app.runtime.deliveryStore.deliveryState(forged.id)).toBeUndefined();
    expect(readdirSync(join(app.dataDir, 'ingress-spool'))).toEqual([]);
  });
});
