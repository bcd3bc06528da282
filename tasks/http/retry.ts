// The http task's retries: a retryable status (default 429 and 500/502/503/504) or a request that
// could not be sent is tried again, up to `retry.attempts` tries in all, waiting what the server's
// Retry-After asks (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) or else an exponential
// backoff with full jitter. Every wait is bounded three ways: one wait by `maxDelayMs`, all of
// them by `maxWaitMs`, and none past the task's deadline (MAESTRO_DEADLINE, when the engine
// gives one). A Retry-After beyond what is left fails at once (retry_after_too_long) instead of
// sleeping into a deadline it cannot meet. The waits sleep on the task's clock with its signal,
// so a cancel ends a backoff at once and a unit test runs them on a fake clock.
import type { TaskClock } from '../../sdk/index.ts';
import { HttpTaskError, type HttpResult } from './request.ts';

export interface RetryInputs {
  attempts?: number;
  statuses?: number[];
  initialDelayMs?: number;
  maxDelayMs?: number;
  maxWaitMs?: number;
}

export interface RetryPolicy {
  attempts: number;
  statuses: ReadonlySet<number>;
  initialDelayMs: number;
  maxDelayMs: number;
  maxWaitMs: number;
}

export const RETRY_DEFAULTS = {
  attempts: 3,
  statuses: [429, 500, 502, 503, 504],
  initialDelayMs: 500,
  maxDelayMs: 30_000,
  maxWaitMs: 120_000,
} as const;

/** Without `retry`, one try (the 1.0 behaviour); `retry: {}` is the defaults. */
export function retryPolicy(inputs: RetryInputs | undefined): RetryPolicy {
  if (inputs === undefined) return { ...RETRY_DEFAULTS, attempts: 1, statuses: new Set() };
  return {
    attempts: inputs.attempts ?? RETRY_DEFAULTS.attempts,
    statuses: new Set(inputs.statuses ?? RETRY_DEFAULTS.statuses),
    initialDelayMs: inputs.initialDelayMs ?? RETRY_DEFAULTS.initialDelayMs,
    maxDelayMs: inputs.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs,
    maxWaitMs: inputs.maxWaitMs ?? RETRY_DEFAULTS.maxWaitMs,
  };
}

const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/**
 * Retry-After as milliseconds from `now`: delay-seconds, or an HTTP-date in any of the three
 * forms a recipient must accept (a date already past is 0). Undefined when absent or unreadable
 * (then the backoff applies). By hand: fetch does not read it, and Date.parse alone would take
 * any string it can guess at (and read asctime's zone-less date as local time).
 */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  let at = Number.NaN;
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) at = Date.parse(text);
  else if (ASCTIME_DATE.test(text)) at = Date.parse(`${text} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The wait before retry `n` (1-based) without Retry-After: full jitter over a doubling cap. */
export function backoffMs(n: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (n - 1));
  return Math.floor(random() * cap);
}

export interface RetryDeps {
  clock: TaskClock;
  signal: AbortSignal;
  log: (line: string) => void;
  heartbeat: () => void;
  /** The task's deadline (epoch ms), when the engine gave one. */
  deadline?: number;
  random?: () => number;
  /** Why a retry is not allowed (a POST without an idempotency key), or undefined when it is. */
  notRetriable?: string;
}

/** A heartbeat at least this often while waiting, so a long Retry-After keeps the task's lease. */
const HEARTBEAT_MS = 10_000;

/**
 * Sends `once` until it gives a response the policy does not retry, or the tries or time run out;
 * returns the last response, and how many times it was sent again.
 */
export async function withRetries(
  policy: RetryPolicy,
  deps: RetryDeps,
  once: () => Promise<HttpResult>,
): Promise<{ result: HttpResult; resends: number }> {
  let waited = 0;
  for (let tried = 1; ; tried++) {
    const outcome = await tryOnce(once, deps.signal);
    const end = () => {
      if (outcome instanceof HttpTaskError) throw outcome;
      return { result: outcome, resends: tried - 1 };
    };
    if (!(outcome instanceof HttpTaskError) && !policy.statuses.has(outcome.status)) return end();
    if (tried >= policy.attempts) return end();
    const delay = waitBefore(tried, outcome, policy, deps, waited);
    if (delay === undefined) return end();
    await sleepBeating(delay, deps);
    waited += delay;
  }
}

/** One send; a request that could not be sent is an outcome to retry, unless the task was cancelled. */
async function tryOnce(
  once: () => Promise<HttpResult>,
  signal: AbortSignal,
): Promise<HttpResult | HttpTaskError> {
  try {
    return await once();
  } catch (error) {
    if (signal.aborted || !(error instanceof HttpTaskError) || error.code !== 'request_failed') throw error;
    return error;
  }
}

/**
 * How long to wait before retry `tried` (logged), or undefined when it is not to be retried
 * (logged why); throws retry_after_too_long when the server asks for more than is left.
 */
function waitBefore(
  tried: number,
  outcome: HttpResult | HttpTaskError,
  policy: RetryPolicy,
  deps: RetryDeps,
  waited: number,
): number | undefined {
  const failed = outcome instanceof HttpTaskError;
  const what = failed ? outcome.message : `${outcome.status} from ${outcome.method} ${where(outcome.url)}`;
  if (deps.notRetriable !== undefined) {
    deps.log(`${what}: not retried (${deps.notRetriable})`);
    return undefined;
  }
  const now = deps.clock.now();
  const asked = failed ? undefined : retryAfterMs(outcome.headers.get('retry-after'), now);
  const left = Math.min(policy.maxWaitMs - waited, (deps.deadline ?? Infinity) - now);
  if (asked !== undefined && (asked > policy.maxDelayMs || asked >= left))
    throw new HttpTaskError(
      'retry_after_too_long',
      `${what} asked to retry after ${seconds(asked)}, more than the retry can wait ` +
        `(${seconds(Math.max(0, Math.min(policy.maxDelayMs, left)))}: retry.maxDelayMs, retry.maxWaitMs and the task's deadline)`,
    );
  const delay = asked ?? backoffMs(tried, policy, deps.random);
  if (delay >= left) {
    deps.log(`${what}: no time left to retry (waited ${seconds(waited)} of retry.maxWaitMs or the deadline)`);
    return undefined;
  }
  const why = asked === undefined ? 'backoff' : 'Retry-After';
  deps.log(`${what}: retry ${tried}/${policy.attempts - 1} in ${delay} ms (${why})`);
  return delay;
}

/** Sleeps on the task's clock (the signal ends it), with a heartbeat every HEARTBEAT_MS. */
async function sleepBeating(ms: number, deps: RetryDeps): Promise<void> {
  for (let left = ms; left > 0; left -= HEARTBEAT_MS) {
    deps.heartbeat();
    await deps.clock.sleep(Math.min(left, HEARTBEAT_MS), deps.signal);
  }
}

const where = (url: URL) => `${url.origin}${url.pathname}`;
const seconds = (ms: number) => `${Math.ceil(ms / 100) / 10} s`;
