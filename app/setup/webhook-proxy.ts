import type { Logger } from 'pino';
import { SmeeClient } from 'smee-client';

export interface WebhookProxy {
  stop(): Promise<void>;
}

/**
 * Development only: pulls deliveries from a smee-style relay (WEBHOOK_PROXY_URL, e.g. a
 * https://smee.io channel, the App's webhook URL) over server-sent events and posts each to this
 * app's own webhook endpoint, headers and all, as probot does with the same client. The
 * endpoint verifies the signature as for any delivery: the relay is not trusted.
 */
export async function startWebhookProxy(options: {
  url: string;
  port: number;
  webhookPath: string;
  logger: Logger;
}): Promise<WebhookProxy> {
  const log = options.logger.child({ name: 'webhook-proxy' });
  const client = new SmeeClient({
    source: options.url,
    target: `http://127.0.0.1:${options.port}${options.webhookPath}`,
    logger: {
      info: (message: string) => log.debug(message),
      error: (...args: unknown[]) => log.warn({ args }, 'webhook relay error'),
    },
  });
  await client.start();
  log.info({ relay: options.url }, 'forwarding webhooks from the relay');
  return { stop: () => client.stop() };
}
