import { createHmac, randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

/** A webhook payload as tests adjust it: loosely typed JSON on purpose. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests rewrite arbitrary payload fields
export type Payload = Record<string, any>;

interface ExampleGroup {
  name: string;
  examples: Record<string, unknown>[];
}

let groups: ExampleGroup[] | undefined;

/**
 * A deep copy of one of GitHub's real example payloads (@octokit/webhooks-examples), chosen by
 * event and action, for a test to adjust (repository, SHAs, logins) to its scenario.
 */
export function webhookExample(event: string, action?: string): Payload {
  if (!groups) {
    const require = createRequire(import.meta.url);
    groups = JSON.parse(
      readFileSync(require.resolve('@octokit/webhooks-examples/api.github.com/index.json'), 'utf8'),
    ) as ExampleGroup[];
  }
  const group = groups.find((g) => g.name === event);
  const example = group?.examples.find((e) => action === undefined || e.action === action);
  if (!example) throw new Error(`no example payload for ${event}${action ? `.${action}` : ''}`);
  return structuredClone(example) as Payload;
}

export interface Delivery {
  id: string;
  event: string;
  body: string;
  headers: Record<string, string>;
}

/** Headers and body exactly as GitHub sends a delivery, signed with HMAC-SHA256 of the raw body. */
export function signedDelivery(
  secret: string,
  event: string,
  payload: unknown,
  id: string = randomUUID(),
): Delivery {
  const body = JSON.stringify(payload);
  return {
    id,
    event,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/standin',
      'x-github-event': event,
      'x-github-delivery': id,
      'x-github-hook-id': '1',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
  };
}
