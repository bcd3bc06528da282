import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { openSqliteDeliveryStore, type DeliveryStore, type StoredDelivery } from './delivery-store.ts';
import { signWebhookBody } from './signature.ts';
import { createWebhookIngress, type WebhookIngress } from './webhook-ingress.ts';

const SECRET = 'fastify-secret';
const PATH = '/api/github/webhooks';

/** Mounted exactly as the doc comment of createWebhookIngress says. */
async function mount(ingress: WebhookIngress): Promise<{ fastify: FastifyInstance; url: string }> {
  const fastify = Fastify();
  await fastify.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.post(PATH, (req, reply) => {
      reply.hijack();
      ingress.handle(req.raw, reply.raw);
    });
  });
  fastify.post('/elsewhere', async (req) => ({ parsed: req.body }));
  fastify.addHook('onClose', () => ingress.close());
  const url = await fastify.listen({ port: 0, host: '127.0.0.1' });
  return { fastify, url };
}

function headers(
  body: string,
  id: string,
  signature = signWebhookBody(SECRET, body),
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'x-github-event': 'push',
    'x-github-delivery': id,
    'x-hub-signature-256': signature,
  };
}

describe('the ingress handler mounted unchanged in Fastify', () => {
  let dir: string;
  let store: DeliveryStore;
  let fastify: FastifyInstance | undefined;
  afterEach(async () => {
    await fastify?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('verifies, stores, deduplicates and bounds deliveries while Fastify serves its other routes', async () => {
    dir = mkdtempSync(join(tmpdir(), 'ingress-fastify-'));
    store = openSqliteDeliveryStore(dir);
    const accepted: StoredDelivery[] = [];
    const ingress = createWebhookIngress({
      secret: SECRET,
      deliveries: store,
      spoolDir: join(dir, 'ingress-spool'),
      accept: (delivery) => accepted.push(delivery),
      clock: () => 1,
      logger: pino({ level: 'silent' }),
    });
    const mounted = await mount(ingress);
    fastify = mounted.fastify;
    const post = (body: string, h: Record<string, string>) =>
      fetch(`${mounted.url}${PATH}`, { method: 'POST', body, headers: h });

    // 2 MB: past ingress's in-memory size and past Fastify's own 1 MB body limit, which does not
    // apply because Fastify never reads this body.
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      repository: { pushed_at: Math.floor(Date.now() / 1000) },
      padding: 'x'.repeat(2 * 1024 * 1024),
    });
    const first = await post(body, headers(body, 'one'));
    expect(first.status).toBe(202);
    expect(accepted.map((d) => [d.id, d.payload.length])).toEqual([['one', body.length]]);
    const replay = await post(body, headers(body, 'two'));
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ status: 'duplicate', id: 'two' });
    expect(accepted).toHaveLength(1);

    const forged = await post(body, headers(body, 'three', `sha256=${'0'.repeat(64)}`));
    expect(forged.status).toBe(401);
    const { 'x-hub-signature-256': _dropped, ...unsigned } = headers(body, 'four');
    expect((await post(body, unsigned)).status).toBe(401);
    expect(readdirSync(join(dir, 'ingress-spool'))).toEqual([]);

    // Content-Length over 25 MB: refused from the headers alone.
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${mounted.url}${PATH}`);
      const req = request({
        host: url.hostname,
        port: url.port,
        path: PATH,
        method: 'POST',
        headers: { ...headers('', 'five'), 'content-length': 25 * 1024 * 1024 + 1 },
      });
      req.on('response', (res) => {
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);

    const other = await fetch(`${mounted.url}/elsewhere`, {
      method: 'POST',
      body: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    expect(await other.json()).toEqual({ parsed: { a: 1 } });
  });
});
