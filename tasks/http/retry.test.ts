// The http task's retries, in-process on the SDK's harness against a local server that answers
// each path from a script (503 then 200, 429 with a Retry-After, …). Waits run on a clock that
// records what was asked of it and moves its time on at once, so no test sleeps or times.
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createFakeClock, runTask, type TaskClock } from '../../sdk/index.ts';
import { http } from './index.ts';
import { retryAfterMs } from './retry.ts';
import { useLoopbackServer } from '../../test/helpers/loopback-http.ts';

const START = Date.parse('2026-12-02T08:00:00Z');
type Reply = { status: number; headers?: Record<string, string> };
let script: Reply[] = [];
const seen: { method?: string; headers: IncomingHttpHeaders }[] = [];
const server = createServer((req, res) => {
  seen.push({ method: req.method, headers: req.headers });
  const reply = script.shift() ?? { status: 200 };
  req.resume();
  res.writeHead(reply.status, reply.headers).end(`answer ${reply.status}`);
});
let base = '';
useLoopbackServer(server, (url) => (base = url));
beforeEach(() => {
  script = [];
  seen.length = 0;
});

/** A clock whose sleeps end at once, moving its time on by what was asked; `slept` lists them. */
function recordingClock(): { clock: TaskClock; slept: number[] } {
  let now = START;
  const slept: number[] = [];
  return {
    slept,
    clock: {
      now: () => now,
      sleep: async (ms, signal) => {
        if (signal?.aborted) throw signal.reason;
        slept.push(ms);
        now += ms;
      },
    },
  };
}
const workspace = () => mkdtempSync(join(tmpdir(), 'maestro-http-retry-'));
const run = (inputs: Record<string, unknown>, clock: TaskClock, secrets: Record<string, string> = {}) =>
  runTask(http, { url: `${base}/x`, ...inputs }, { workspace: workspace(), clock, secrets });

describe('the http task’s retries', () => {
  it('retries a 503 and a 429, waiting what Retry-After says in seconds, and logs each retry', async () => {
    script = [
      { status: 503, headers: { 'retry-after': '2' } },
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 200 },
    ];
    const { clock, slept } = recordingClock();
    const r = await run({ retry: {} }, clock);
    expect(r.outcome).toBe('succeeded');
    expect(r.outputs.status).toBe(200);
    expect(seen).toHaveLength(3);
    expect(slept).toEqual([2000, 7000]);
    expect(r.logs.map((l) => l.message).slice(0, 2)).toEqual([
      `503 from GET ${base}/x: retry 1/2 in 2000 ms (Retry-After)`,
      `429 from GET ${base}/x: retry 2/2 in 7000 ms (Retry-After)`,
    ]);
    expect(r.heartbeats).toBe(2);
  });

  it('reads Retry-After as an HTTP-date against the task’s clock', async () => {
    script = [
      { status: 503, headers: { 'retry-after': new Date(START + 90_000).toUTCString() } },
      { status: 200 },
    ];
    const { clock, slept } = recordingClock();
    const r = await run({ retry: { maxDelayMs: 120_000 } }, clock);
    expect(r.outcome).toBe('succeeded');
    expect(slept).toEqual([10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000]);
    expect(r.heartbeats).toBe(9); // a long wait keeps the lease
  });

  it('without Retry-After, backs off exponentially with jitter under the doubling cap', async () => {
    script = [{ status: 500 }, { status: 502 }, { status: 504 }, { status: 200 }];
    const { clock, slept } = recordingClock();
    const r = await run({ retry: { attempts: 4, initialDelayMs: 1000 } }, clock);
    expect(r.outcome).toBe('succeeded');
    expect(slept).toHaveLength(3);
    slept.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThan(1000 * 2 ** i);
    });
  });

  it('stops after retry.attempts tries and fails with the last status', async () => {
    script = [{ status: 503 }, { status: 503 }, { status: 503 }];
    const { clock } = recordingClock();
    const r = await run({ retry: { attempts: 2, initialDelayMs: 10 } }, clock);
    expect(r.outcome).toBe('failed');
    expect(r.error).toMatchObject({ code: 'http_status' });
    expect(r.outputs.status).toBe(503);
    expect(seen).toHaveLength(2);
  });

  it('does not retry without `retry`, nor a status outside retry.statuses', async () => {
    script = [{ status: 503 }, { status: 200 }];
    expect((await run({}, recordingClock().clock)).outputs.status).toBe(503);
    script = [{ status: 404 }, { status: 200 }];
    expect((await run({ retry: {} }, recordingClock().clock)).outputs.status).toBe(404);
    script = [{ status: 409 }, { status: 200 }];
    expect((await run({ retry: { statuses: [409] } }, recordingClock().clock)).outputs.status).toBe(200);
  });

  it('a Retry-After beyond maxDelayMs or the task’s deadline fails at once instead of sleeping', async () => {
    script = [{ status: 503, headers: { 'retry-after': '3600' } }];
    const first = recordingClock();
    const r = await run({ retry: {} }, first.clock);
    expect(r.outcome).toBe('failed');
    expect(r.error).toMatchObject({ code: 'retry_after_too_long' });
    expect((r.error as Error).message).toBe(
      `503 from GET ${base}/x asked to retry after 3600 s, more than the retry can wait (30 s: retry.maxDelayMs, retry.maxWaitMs and the task's deadline)`,
    );
    expect(first.slept).toEqual([]);
    // Within maxDelayMs, but the engine's deadline (MAESTRO_DEADLINE) is 5 s away.
    script = [{ status: 503, headers: { 'retry-after': '20' } }];
    const second = recordingClock();
    const deadline = { MAESTRO_DEADLINE: new Date(START + 5000).toISOString() };
    const late = await run({ retry: {} }, second.clock, deadline);
    expect(late.error).toMatchObject({ code: 'retry_after_too_long' });
    expect(second.slept).toEqual([]);
  });

  it('waits no more than retry.maxWaitMs in all', async () => {
    script = [1, 2, 3, 4].map(() => ({ status: 503, headers: { 'retry-after': '4' } }));
    const { clock, slept } = recordingClock();
    const r = await run({ retry: { attempts: 10, maxWaitMs: 10_000 } }, clock);
    expect(r.error).toMatchObject({ code: 'retry_after_too_long' });
    expect(slept).toEqual([4000, 4000]);
  });

  it('retries a request that could not be sent (connection refused)', async () => {
    const { clock, slept } = recordingClock();
    const r = await runTask(
      http,
      { url: 'http://127.0.0.1:1/', retry: { attempts: 3, initialDelayMs: 10 } },
      { workspace: workspace(), clock },
    );
    expect(r.error).toMatchObject({ code: 'request_failed' });
    // Two retries, each logged; full jitter may draw a wait of 0 ms, which sleeps not at all, so
    // the clock's sleeps are at most two (counting them failed about one run in seven).
    const retries = r.logs
      .map((l) => l.message)
      .filter((m) => /: retry [12]\/2 in \d+ ms \(backoff\)$/.test(m));
    expect(retries).toHaveLength(2);
    expect(slept.length).toBeLessThanOrEqual(2);
  });

  it('does not retry a POST or PATCH that carries no Idempotency-Key, and says why', async () => {
    script = [{ status: 503 }, { status: 200 }];
    const { clock } = recordingClock();
    const r = await run({ method: 'PATCH', retry: {}, idempotencyKey: false }, clock);
    expect(r.outputs.status).toBe(503);
    expect(seen).toHaveLength(1);
    expect(r.logs[0]?.message).toBe(
      `503 from PATCH ${base}/x: not retried (PATCH is not idempotent and no Idempotency-Key is sent)`,
    );
  });

  it('a cancel ends a backoff sleep', async () => {
    script = [{ status: 503, headers: { 'retry-after': '20' } }, { status: 200 }];
    const clock = createFakeClock(START);
    const stop = new AbortController();
    const running = runTask(
      http,
      { url: `${base}/x`, retry: {} },
      { workspace: workspace(), clock, signal: stop.signal },
    );
    while (clock.sleepers === 0) await new Promise((r) => setImmediate(r));
    stop.abort(new Error('stop'));
    const r = await running;
    expect(r.outcome).toBe('cancelled');
    expect(seen).toHaveLength(1);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('1994-11-06T08:49:00Z');
  it('reads delay-seconds and the three HTTP-date forms, a past date as 0, and nothing else', () => {
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs('Sun, 06 Nov 1994 08:49:37 GMT', now)).toBe(37_000);
    expect(retryAfterMs('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(37_000);
    expect(retryAfterMs('Sun Nov  6 08:49:37 1994', now)).toBe(37_000);
    expect(retryAfterMs('Sun, 06 Nov 1994 08:00:00 GMT', now)).toBe(0);
    for (const bad of ['-1', '1.5', 'soon', '2026-12-02T08:00:00Z', ''])
      expect(retryAfterMs(bad, now), bad).toBeUndefined();
    expect(retryAfterMs(null, now)).toBeUndefined();
  });
});
