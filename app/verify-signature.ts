import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64})$/;

/** Why a delivery's signature was refused; rendered in the 401 body (never the expected value). */
export type SignatureProblem = 'missing' | 'malformed' | 'mismatch';

/**
 * Checks `X-Hub-Signature-256` over the raw request bytes, as GitHub computes it: HMAC-SHA256 of
 * the body with the webhook secret, hex, prefixed `sha256=`. The comparison is constant-time over
 * two 32-byte buffers, so the time taken does not reveal how much of a forged signature matched.
 */
export function checkWebhookSignature(
  secret: string,
  rawBody: Uint8Array,
  header: string | string[] | undefined,
): SignatureProblem | undefined {
  if (header === undefined || header === '') return 'missing';
  if (Array.isArray(header)) return 'malformed';
  const match = SIGNATURE_PATTERN.exec(header.trim().toLowerCase());
  if (!match) return 'malformed';
  const given = Buffer.from(match[1]!, 'hex');
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  if (given.length !== expected.length) return 'malformed';
  return timingSafeEqual(given, expected) ? undefined : 'mismatch';
}

/** The header value GitHub would send for this body (used by tests and the benchmark). */
export function signWebhookBody(secret: string, rawBody: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
