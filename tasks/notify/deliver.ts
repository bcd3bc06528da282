// One webhook delivery: a JSON POST, retried on 429 and 5xx (after Retry-After when the receiver
// says, else a doubling backoff), never redirected (a redirect would carry the message to a host
// the secret URL did not name). Nothing here quotes the URL: it is the secret (a Slack incoming
// webhook's path is its token); messages name its host only.
import { TaskError, type TaskClock } from '../../sdk/index.ts';

export interface Delivery {
  url: URL;
  body: unknown;
  headers: Record<string, string>;
  timeoutMs: number;
  retries: number;
  clock: TaskClock;
  signal: AbortSignal;
  fetch?: typeof fetch;
  onRetry?: (status: number, waitMs: number) => void;
}

export interface Delivered {
  status: number;
  attempts: number;
}

const MAX_WAIT_MS = 60_000;

export async function deliver(d: Delivery): Promise<Delivered> {
  const send = d.fetch ?? fetch;
  for (let attempt = 1; ; attempt++) {
    const response = await post(send, d);
    if (response.status >= 200 && response.status < 300)
      return { status: response.status, attempts: attempt };
    const text = (await response.text().catch(() => '')).slice(0, 200);
    const retryable = response.status === 429 || response.status >= 500;
    if (!retryable || attempt > d.retries)
      throw new TaskError(
        'notify_rejected',
        `${d.url.host} answered ${response.status}${text ? ` (${JSON.stringify(text)})` : ''} after ${attempt} attempt(s)`,
        {
          fault: retryable ? 'system' : 'user',
          retryable,
          hint:
            response.status >= 300 && response.status < 400
              ? 'the webhook redirects, which notify never follows: give the URL it redirects to'
              : 'check the webhook URL secret and the message (Slack answers invalid_payload or no_service)',
        },
      );
    const waitMs =
      retryAfterMs(response.headers.get('retry-after'), d.clock.now()) ?? 1000 * 2 ** (attempt - 1);
    d.onRetry?.(response.status, Math.min(waitMs, MAX_WAIT_MS));
    await d.clock.sleep(Math.min(waitMs, MAX_WAIT_MS), d.signal);
  }
}

async function post(send: typeof fetch, d: Delivery): Promise<Response> {
  const signal = AbortSignal.any([d.signal, AbortSignal.timeout(d.timeoutMs)]);
  try {
    return await send(d.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...d.headers },
      body: JSON.stringify(d.body),
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    if (d.signal.aborted) throw d.signal.reason;
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    throw new TaskError('notify_unreachable', `cannot reach ${d.url.host}: ${cause}`, {
      fault: 'system',
      retryable: true,
      hint: 'check that the receiver is up and the runner may reach it',
      cause: error,
    });
  }
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
