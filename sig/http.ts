import {
  credentialInClear,
  Fault,
  MaestroError,
  systemClock,
  systemRandom,
  type Clock,
  type RandomSource,
} from '../core/index.ts';
import { SigRequestError, SigUnreachableError } from './errors.ts';

/** What every SIG client is given: where SIG is, and the seams tests replace. */
export interface SigConnection {
  /** SIG's base URL, for example `http://127.0.0.1:8787` (SIG_INGEST_URL). */
  baseUrl: string;
  /** A bearer token (the workload identity), sent as Authorization. */
  token?: string;
  fetch?: typeof fetch;
  clock?: Clock;
  random?: RandomSource;
  retry?: Partial<RetryOptions>;
  signal?: AbortSignal;
}

export interface RetryOptions {
  /** Retries after the first attempt. */
  limit: number;
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { limit: 5, initialMs: 200, maxMs: 10_000 };

export interface SigResponse {
  status: number;
  body: unknown;
  attempts: number;
}

/**
 * One JSON request to SIG, retried on what may pass (unreachable, 429, 5xx) with exponential
 * backoff and full jitter, waiting at least the server's Retry-After. Retrying is safe only
 * because every mutating SIG request carries an idempotency key in its body: the caller sends the
 * very same body each time. (engine/retry.ts computes task retries the same way; it sits in a
 * layer sig/ may not import.)
 */
export async function sigRequest(
  conn: SigConnection,
  method: string,
  path: string,
  body?: unknown,
): Promise<SigResponse> {
  const retry = { ...DEFAULT_RETRY, ...conn.retry };
  const clock = conn.clock ?? systemClock;
  const random = conn.random ?? systemRandom;
  const target = new URL(path, conn.baseUrl);
  const authorization = bearerHeader(conn, target);
  const url = target.href;
  for (let attempt = 1; ; attempt++) {
    let failure: SigRequestError | SigUnreachableError;
    let retryAfterMs = 0;
    try {
      const response = await (conn.fetch ?? fetch)(url, {
        method,
        headers: {
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...authorization,
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(conn.signal ? { signal: conn.signal } : {}),
      });
      const parsed = await readJson(response);
      if (response.ok) return { status: response.status, body: parsed, attempts: attempt };
      failure = problemError(response.status, parsed);
      retryAfterMs = Number(response.headers.get('retry-after') ?? 0) * 1000 || 0;
    } catch (error) {
      if (conn.signal?.aborted) throw error;
      failure = new SigUnreachableError(url, error);
    }
    if (!failure.retryable || attempt > retry.limit) throw failure;
    const ceiling = Math.min(retry.maxMs, retry.initialMs * 2 ** (attempt - 1));
    await clock.sleep(Math.max(retryAfterMs, Math.floor(random() * ceiling)), conn.signal);
  }
}

/**
 * The Authorization header for a request to `url`: none without a token, and refused
 * (`credential_in_clear`, before anything is sent) where the bearer would cross the network in
 * clear, plain http:// beyond loopback. Every SIG client sends its token through this.
 */
export function bearerHeader(conn: Pick<SigConnection, 'token'>, url: URL): { authorization?: string } {
  if (!conn.token) return {};
  const why = credentialInClear(url, 'the bearer token');
  if (why)
    throw new MaestroError('credential_in_clear', why, {
      fault: Fault.user,
      hint: 'give SIG as https://host (SIG_INGEST_URL); plain http:// is for a server on this machine (maestro sig-dev-server)',
    });
  return { authorization: `Bearer ${conn.token}` };
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 500) };
  }
}

/** A problem document turned into a typed error; the contract's field errors go in details. */
export function problemError(status: number, body: unknown): SigRequestError {
  const problem = (body ?? {}) as { code?: string; detail?: string; errors?: unknown };
  return new SigRequestError(
    status,
    problem.code ?? `http_${status}`,
    `SIG answered ${status}: ${problem.detail ?? 'no detail'}`,
    {
      details: { errors: problem.errors ?? [] },
    },
  );
}
