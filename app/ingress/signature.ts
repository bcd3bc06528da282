import { createHmac, timingSafeEqual } from 'node:crypto';

const SIGNATURE_PATTERN = /^sha256=([0-9a-f]{64})$/;

/** Why a delivery's signature was refused; rendered in the refusal body (never the expected value). */
export type SignatureProblem = 'missing' | 'malformed' | 'mismatch';

/**
 * Reads `X-Hub-Signature-256` without the body: `sha256=` and 64 hex digits, exactly once. Ingress
 * calls this before it reads a byte of the body, so a request without a usable signature costs
 * nothing but its headers.
 */
export function parseSignatureHeader(
  header: string | string[] | undefined,
): { digest: Buffer } | { problem: 'missing' | 'malformed' } {
  if (header === undefined || header === '') return { problem: 'missing' };
  if (Array.isArray(header)) return { problem: 'malformed' };
  const match = SIGNATURE_PATTERN.exec(header.trim().toLowerCase());
  if (!match) return { problem: 'malformed' };
  return { digest: Buffer.from(match[1]!, 'hex') };
}

/**
 * Compares a signature GitHub sent with the HMAC computed over the raw bytes. Constant-time over
 * two 32-byte buffers, so the time taken does not reveal how much of a forged signature matched.
 */
export function signatureMatches(given: Buffer, computed: Buffer): boolean {
  return given.length === computed.length && timingSafeEqual(given, computed);
}

/**
 * Checks `X-Hub-Signature-256` over a whole body in memory, as GitHub computes it: HMAC-SHA256 of
 * the body with the webhook secret, hex, prefixed `sha256=`. (Ingress hashes as the body streams
 * instead; this is the same check for callers that already hold the bytes.)
 */
export function checkWebhookSignature(
  secret: string,
  rawBody: Uint8Array,
  header: string | string[] | undefined,
): SignatureProblem | undefined {
  const parsed = parseSignatureHeader(header);
  if ('problem' in parsed) return parsed.problem;
  const expected = createHmac('sha256', secret).update(rawBody).digest();
  return signatureMatches(parsed.digest, expected) ? undefined : 'mismatch';
}

/** The header value GitHub would send for this body (used by tests and the benchmark). */
export function signWebhookBody(secret: string, rawBody: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}
