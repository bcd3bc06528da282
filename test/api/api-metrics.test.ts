/**
 * GET /metrics over HTTP against the real server: the text parses as the Prometheus exposition
 * format, a request made before the scrape is counted under its route template, method and
 * status, the scrape itself is in flight while it is answered, the process metrics are there,
 * and nothing of a request's URL (a token-like path segment, a query) reaches a label.
 * The token rules (401/403, the namespace limit) are swept by api-auth-sweep.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../api/index.ts';
import { labelsOf, parsePromText, type PromFamily } from '../helpers/prom-text.ts';
import { startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi({ worker: false });
});
afterAll(async () => api?.close());

async function scrape(token?: string | null): Promise<{ text: string; families: PromFamily[] }> {
  const answer = await api.call('GET', '/metrics', { token });
  expect(answer.status).toBe(200);
  expect(answer.contentType).toBe('text/plain');
  return { text: answer.body as string, families: parsePromText(answer.body as string) };
}

const family = (families: PromFamily[], name: string) => {
  const found = families.find((f) => f.name === name);
  if (!found) throw new Error(`no metric ${name}`);
  return found;
};

function requestCount(families: PromFamily[], labels: Record<string, string>): number {
  // A histogram with no observation yet has no samples, and the parser leaves it out.
  const histogram = families.find((f) => f.name === 'maestro_http_request_duration_seconds');
  const sample = histogram?.metric.find((m) =>
    Object.entries(labels).every(([k, v]) => labelsOf(m)[k] === v),
  );
  return sample ? Number(sample.histogram!.sampleCount) : 0;
}

describe('GET /metrics', () => {
  it('counts a request under its route template, method and status, and the scrape as in flight', async () => {
    const before = (await scrape()).families;
    const listed = await api.call('GET', '/v1/runs');
    expect(listed.status).toBe(200);
    const { families } = await scrape();
    const labels = { route: '/v1/runs', method: 'GET', status: '200' };
    expect(requestCount(families, labels)).toBe(requestCount(before, labels) + 1);
    // The first scrape finished, so it is counted too; the second is being answered.
    expect(
      requestCount(families, { route: '/metrics', method: 'GET', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
    const inFlight = family(families, 'maestro_http_requests_in_flight').metric.find(
      (m) => labelsOf(m).route === '/metrics',
    );
    expect(Number(inFlight?.gauge?.value)).toBe(1);
    expect(family(families, 'maestro_http_request_duration_seconds').type).toBe('HISTOGRAM');
  });

  it('is checked by a strict parser (a malformed text is refused)', () => {
    expect(() => parsePromText('# TYPE a counter\na{x="1} 1\n')).toThrow(/not Prometheus text format/);
    expect(() => parsePromText('a abc\n')).toThrow(/expected float/);
  });

  it('holds the process metrics', async () => {
    const { families } = await scrape();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
    ])
      expect(family(families, name).metric.length, name).toBeGreaterThan(0);
  });

  it('never puts a URL in a label: a token-like path segment and a query stay out', async () => {
    const secret = mintToken().token;
    const other = mintToken().token;
    const asRun = await api.call('GET', '/v1/runs/{id}', { params: { id: secret }, query: {} });
    expect(asRun.status).toBe(404);
    const unmatched = await fetch(`${api.url}/v1/${other}?token=${other}`, {
      headers: { authorization: `Bearer ${api.token}` },
    });
    expect(unmatched.status).toBe(404);
    const { text, families } = await scrape();
    for (const leaked of [secret, other, api.token, 'mst_']) expect(text).not.toContain(leaked);
    expect(requestCount(families, { route: '/v1/runs/{id}', method: 'GET', status: '404' })).toBe(1);
    expect(requestCount(families, { route: 'unmatched', method: 'GET', status: '404' })).toBe(1);
  });
});

describe('--metrics-public', () => {
  it('serves /metrics without a token, and only /metrics', async () => {
    const open = await startApi({ worker: false, metricsPublic: true });
    try {
      const metrics = await open.call('GET', '/metrics', { token: null });
      expect(metrics.status).toBe(200);
      expect(parsePromText(metrics.body as string).length).toBeGreaterThan(0);
      const runs = await open.call('GET', '/v1/runs', { token: null });
      expect(runs.status).toBe(401);
    } finally {
      await open.close();
    }
    // Without the flag, the same request is refused.
    expect((await api.call('GET', '/metrics', { token: null })).status).toBe(401);
  });
});
