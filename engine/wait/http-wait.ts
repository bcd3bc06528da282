/**
 * The `wait` task's HTTP condition, polled by the engine: a request every `interval` until the
 * CEL `condition` over the response holds (success) or `timeout` passes (failure, not retryable:
 * the condition did not hold in the time the author gave it). Exposed as a RunnerHandle so the
 * attempt's lease, log pump and cancel work as for any runner. The request itself is the http
 * task's (`HttpProbe`, injected by the runtime from tasks/http: the same redirect and egress
 * rules), so the engine does not carry a second HTTP client.
 */
import {
  AttemptOutcome,
  describeError,
  type AttemptResult,
  type Clock,
  type RunnerHandle,
} from '../../core/index.ts';
import { evaluateCelBoolean } from '../../compiler/index.ts';
import { LogChannel } from '../../runners/index.ts';
import type { HttpCondition } from './wait-spec.ts';

export interface HttpProbeRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

/** One HTTP request, redirects followed under the egress allow-list `env` carries; throws on a refused hop. */
export type HttpProbe = (
  request: HttpProbeRequest,
  env: Record<string, string | undefined>,
) => Promise<{ status: number; body: Buffer }>;

export interface HttpWaitDeps {
  clock: Clock;
  probe: HttpProbe | undefined;
  /** The policy's egress allow-list for the task (MAESTRO_EGRESS_ALLOWED_HOSTS), if it set one. */
  env: Record<string, string>;
  redact: (text: string) => string;
  /** When the wait began (the attempt's start): the timeout counts from here. */
  startedAt: number;
  /** What the timer part waited already, for the `waitedMs` output. */
  waitedBefore: number;
}

/** Starts polling; the handle's wait() resolves with the attempt's result, never rejects. */
export function startHttpWait(http: HttpCondition, deps: HttpWaitDeps): RunnerHandle {
  const logs = new LogChannel();
  const stop = new AbortController();
  let cancelled: string | undefined;
  const log = (text: string) =>
    logs.push({ stream: 'system', text: deps.redact(text), time: deps.clock.now() });
  const result = poll(http, deps, log, stop.signal, () => cancelled).finally(() => logs.close());
  return {
    logs: () => logs,
    wait: () => result,
    cancel: async (reason) => {
      cancelled = reason;
      stop.abort(new Error(reason));
      await result;
    },
  };
}

async function poll(
  http: HttpCondition,
  deps: HttpWaitDeps,
  log: (text: string) => void,
  signal: AbortSignal,
  cancelled: () => string | undefined,
): Promise<AttemptResult> {
  const { clock, startedAt } = deps;
  const end = (outcome: AttemptOutcome, extra: Partial<AttemptResult>): AttemptResult => ({
    outcome,
    exitCode: outcome === AttemptOutcome.succeeded ? 0 : null,
    retryable: false,
    outputs: {},
    startedAt,
    finishedAt: clock.now(),
    isolation: { sandbox: 'none', network: 'on', reason: 'an engine primitive: no task code runs' },
    ...extra,
  });
  if (!deps.probe)
    return end(AttemptOutcome.runnerError, {
      reason: 'wait_probe_unavailable',
      message: 'this engine was started without an HTTP client for wait conditions',
    });
  const deadline = startedAt + http.timeoutMs;
  log(
    `waiting until ${http.condition} holds for ${http.method} ${http.url} (every ${http.intervalMs} ms, at most ${http.timeoutMs} ms)`,
  );
  for (let polls = 1; ; polls++) {
    if (cancelled() !== undefined) return end(AttemptOutcome.cancelled, { reason: cancelled() });
    const seen = await check(http, deps, log);
    if (seen.holds) {
      const waitedMs = deps.waitedBefore + clock.now() - startedAt;
      log(`condition held at poll ${polls} (status ${seen.status})`);
      return end(AttemptOutcome.succeeded, {
        outputs: { waitedMs: String(waitedMs), status: String(seen.status), polls: String(polls) },
      });
    }
    if (clock.now() + http.intervalMs > deadline)
      return end(AttemptOutcome.failed, {
        reason: 'wait_timeout',
        message: `the condition did not hold within ${http.timeoutMs} ms (${polls} polls)`,
      });
    try {
      await clock.sleep(http.intervalMs, signal);
    } catch {
      return end(AttemptOutcome.cancelled, { reason: cancelled() ?? 'cancelled' });
    }
  }
}

/**
 * One poll: a failed request, or a condition that cannot be evaluated on this response (a 502's
 * HTML has no `body.ready`), is logged and polled again until the timeout.
 */
async function check(
  http: HttpCondition,
  deps: HttpWaitDeps,
  log: (text: string) => void,
): Promise<{ holds: boolean; status?: number }> {
  let response: { status: number; body: Buffer };
  try {
    const request = {
      url: http.url,
      method: http.method,
      headers: http.headers,
      timeoutMs: Math.min(http.intervalMs, 30_000),
    };
    response = await deps.probe!(
      http.body === undefined ? request : { ...request, body: http.body },
      deps.env,
    );
  } catch (error) {
    log(`poll failed: ${describeError(error)}`);
    return { holds: false };
  }
  const text = response.body.toString('utf8');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the condition sees the text
  }
  try {
    const holds = evaluateCelBoolean(http.condition, { status: response.status, body });
    if (!holds) log(`condition false (status ${response.status})`);
    return { holds, status: response.status };
  } catch (error) {
    log(`condition not evaluated on status ${response.status}: ${describeError(error)}`);
    return { holds: false, status: response.status };
  }
}
