// The http task's Idempotency-Key (draft-ietf-httpapi-idempotency-key-header: a Structured
// Field String, so sent in double quotes). A request with side effects (POST, PUT, PATCH, DELETE)
// carries one by default, the same on every try of the attempt and on every attempt of the task in
// the run: derived from the run and task ids the engine gives each attempt (MAESTRO_RUN_ID,
// MAESTRO_TASK_ID), hashed so neither reaches the server; another run gets another key. The
// `idempotencyKey` input says its own key, or `false` for none; a key already in `headers` is the
// caller's and is left as it is.
import { createHash, randomUUID } from 'node:crypto';

const WITH_SIDE_EFFECTS = ['POST', 'PUT', 'PATCH', 'DELETE'];

export interface KeyDeps {
  runId: string | undefined;
  taskId: string | undefined;
}

/**
 * The header's value for this request, or undefined when none is to be sent. Without the engine's
 * ids (a task run by hand) the key is random: still the same across this attempt's retries.
 */
export function idempotencyKey(
  method: string,
  input: string | false | undefined,
  deps: KeyDeps,
): string | undefined {
  if (input === false) return undefined;
  if (typeof input === 'string') return sfString(input);
  if (!WITH_SIDE_EFFECTS.includes(method)) return undefined;
  if (deps.runId === undefined || deps.taskId === undefined) return `"${randomUUID()}"`;
  const digest = createHash('sha256')
    .update(`maestro/http idempotency-key\0${deps.runId}\0${deps.taskId}`)
    .digest('hex');
  // UUID-shaped (version 8, RFC 9562's custom form): what servers that check the shape expect.
  const hex = `${digest.slice(0, 12)}8${digest.slice(13, 16)}${((parseInt(digest[16]!, 16) & 0x3) | 0x8).toString(16)}${digest.slice(17, 32)}`;
  return `"${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}"`;
}

/**
 * RFC 8941's sf-string for a key of printable ASCII (the input's schema allows %x20-7E): in double
 * quotes, with `"` and `\` escaped by a backslash, so a key holding either is still one string
 * the server parses back to the same characters (unescaped, a quote would end it early).
 */
export function sfString(value: string): string {
  return `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** The name of an Idempotency-Key the caller put in `headers`, if any (any case). */
export function keyInHeaders(headers: Record<string, string> | undefined): string | undefined {
  return Object.keys(headers ?? {}).find((h) => h.toLowerCase() === 'idempotency-key');
}
