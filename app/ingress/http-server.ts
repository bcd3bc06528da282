import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { replyJson } from './refusals.ts';
import type { WebhookIngress } from './webhook-ingress.ts';

export interface IngressServerOptions {
  ingress: WebhookIngress;
  webhookPath: string;
  /** Whether the app can take work (store open, GitHub auth configured). */
  isReady: () => boolean;
}

/**
 * The app's own HTTP front (`maestro app`): `/healthz`, `/readyz`, and the webhook path, which
 * is the ingress handler unchanged. Node's own header and request timeouts back up the
 * handler's body deadline for requests that never reach it (headers sent a byte at a time).
 */
export function createIngressServer(options: IngressServerOptions): Server {
  return createServer({ headersTimeout: 30_000, requestTimeout: 60_000 }, (request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path === options.webhookPath) return options.ingress.handle(request, response);
    if (path === '/healthz') return replyJson(response, 200, { status: 'ok' });
    if (path === '/readyz')
      return options.isReady()
        ? replyJson(response, 200, { status: 'ready' })
        : replyJson(response, 503, { status: 'not ready' });
    replyJson(response, 404, { error: 'not found' });
  });
}

export async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
