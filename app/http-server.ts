import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AppStore } from './app-store.ts';
import type { DeliveryQueue } from './delivery-queue.ts';
import { checkWebhookSignature } from './verify-signature.ts';

/** GitHub caps payloads at 25 MB; anything larger is not from GitHub. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;

export interface IngressOptions {
  secret: string;
  webhookPath: string;
  store: AppStore;
  queue: DeliveryQueue;
  clock: () => number;
  /** Whether the app can take work (store open, GitHub auth configured). */
  isReady: () => boolean;
  log: (level: 'info' | 'warn', message: string, fields?: Record<string, unknown>) => void;
}

/**
 * The app's HTTP front: `/healthz`, `/readyz`, and the webhook path. A delivery is verified over
 * its raw bytes, stored, and only then acknowledged with 202; processing happens afterwards, so
 * the response time does not depend on GitHub API calls.
 */
export function createIngressServer(options: IngressOptions): Server {
  return createServer((request, response) => {
    handle(options, request, response).catch((error: unknown) => {
      options.log('warn', 'request failed', { error: (error as Error).message });
      if (!response.headersSent) reply(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });
}

async function handle(options: IngressOptions, request: IncomingMessage, response: ServerResponse) {
  const path = (request.url ?? '/').split('?')[0];
  if (path === '/healthz') return reply(response, 200, { status: 'ok' });
  if (path === '/readyz')
    return options.isReady()
      ? reply(response, 200, { status: 'ready' })
      : reply(response, 503, { status: 'not ready' });
  if (path !== options.webhookPath) return reply(response, 404, { error: 'not found' });
  if (request.method !== 'POST') return reply(response, 405, { error: 'use POST' });
  const body = await readBody(request);
  if (body === undefined) return reply(response, 413, { error: 'payload too large' });
  const problem = checkWebhookSignature(options.secret, body, request.headers['x-hub-signature-256']);
  if (problem) {
    options.log('warn', 'webhook signature refused', { problem });
    return reply(response, 401, { error: `signature ${problem}` });
  }
  const id = header(request, 'x-github-delivery');
  const name = header(request, 'x-github-event');
  if (!id || !name)
    return reply(response, 400, { error: 'X-GitHub-Delivery and X-GitHub-Event are required' });
  const text = body.toString('utf8');
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    return reply(response, 400, { error: 'body is not JSON' });
  }
  const delivery = { id, name, payload: text, receivedAt: options.clock() };
  if (!options.store.recordDelivery(delivery)) return reply(response, 200, { status: 'duplicate', id });
  reply(response, 202, { status: 'accepted', id });
  options.queue.enqueue(delivery, payload);
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
