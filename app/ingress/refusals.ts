import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Every answer ingress gives other than 202: a closed table, so logs and tests switch on `code`.
 * The body is `{ error, code }`; nothing in it depends on the secret or the expected signature.
 */
export const Refusal = {
  notPost: { code: 'method_not_allowed', status: 405, message: 'use POST' },
  closing: { code: 'shutting_down', status: 503, message: 'the app is shutting down' },
  signatureMissing: {
    code: 'signature_missing',
    status: 401,
    message: 'signature missing: X-Hub-Signature-256 is required',
  },
  signatureMalformed: {
    code: 'signature_malformed',
    status: 400,
    message: 'signature malformed: X-Hub-Signature-256 must be sha256= and 64 hex digits',
  },
  headersMissing: {
    code: 'headers_missing',
    status: 400,
    message: 'X-GitHub-Delivery and X-GitHub-Event are required (an id and an event name)',
  },
  tooLarge: {
    code: 'payload_too_large',
    status: 413,
    message: 'payload too large: GitHub sends at most 25 MB',
  },
  busy: {
    code: 'busy',
    status: 503,
    message: 'too many deliveries are being received at once; retry later',
  },
  timeout: { code: 'body_timeout', status: 408, message: 'the request body did not arrive in time' },
  signatureMismatch: { code: 'signature_mismatch', status: 401, message: 'signature mismatch' },
  notJson: { code: 'not_json', status: 400, message: 'body is not UTF-8 JSON' },
  stalePush: {
    code: 'delivery_stale',
    status: 400,
    message: 'a push older than the delivery retention (repository.pushed_at), refused as a replay',
  },
  spoolFailed: { code: 'spool_failed', status: 503, message: 'the body could not be stored; retry later' },
} as const;
export type Refusal = (typeof Refusal)[keyof typeof Refusal];

export function replyJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/**
 * Answers a refusal. When the body was not read to its end the connection is closed after the
 * answer (`Connection: close`): the unread rest is never buffered, and a keep-alive client cannot
 * reuse a connection whose request it never finished.
 */
export function refuse(
  request: IncomingMessage,
  response: ServerResponse,
  refusal: Refusal,
  headers: Record<string, string> = {},
): void {
  if (response.headersSent) return void response.destroy();
  const close: Record<string, string> = request.readableEnded ? {} : { connection: 'close' };
  replyJson(
    response,
    refusal.status,
    { error: refusal.message, code: refusal.code },
    { ...close, ...headers },
  );
}
