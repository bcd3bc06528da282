/**
 * The control-plane metrics on GET /metrics of the real server (worker role and the App's real
 * webhook ingress mounted as `maestro server` mounts it): a run makes scheduling decisions
 * (claims) and an allowed policy decision; signed and unsigned webhook deliveries are timed as
 * accepted and rejected; the breaker gauge is there at 0. The attack: deliveries with a fresh
 * delivery id, event name and signature each, and runs with fresh ids, add no series.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createWebhookIngress,
  openDeliveryStore,
  signWebhookBody,
  type DeliveryStore,
} from '../../app/index.ts';
import { labelsOf, parsePromText, type PromFamily } from '../helpers/prom-text.ts';
import { HELLO, startApi, type ApiHarness } from './api-harness.ts';

const SECRET = 'metrics-secret';
const PATH = '/api/github/webhooks';
const POLL = { timeout: 15_000, interval: 50 };
let api: ApiHarness;
let deliveries: DeliveryStore;
const spool = mkdtempSync(join(tmpdir(), 'maestro-cp-metrics-'));

beforeAll(async () => {
  deliveries = await openDeliveryStore({ dataDir: spool });
  const ingress = createWebhookIngress({
    secret: SECRET,
    deliveries,
    spoolDir: join(spool, 'spool'),
    accept: () => undefined,
    clock: Date.now,
    logger: pino({ level: 'silent' }),
  });
  api = await startApi({ webhook: { path: PATH, ingress } });
});
afterAll(async () => {
  await api?.close();
  await deliveries?.close();
  rmSync(spool, { recursive: true, force: true });
});

async function scrape(): Promise<PromFamily[]> {
  const answer = await api.call('GET', '/metrics');
  return parsePromText(answer.body as string);
}

function count(all: PromFamily[], name: string, labels: Record<string, string> = {}): number {
  const family = all.find((f) => f.name === name);
  return (family?.metric ?? [])
    .filter((m) => Object.entries(labels).every(([k, v]) => labelsOf(m)[k] === v))
    .reduce((sum, m) => sum + Number(m.histogram?.sampleCount ?? m.counter?.value ?? m.gauge?.value ?? 0), 0);
}

/** Every series of Maestro's own and the conventions' families (Node's process metrics vary by themselves). */
const seriesOf = (all: PromFamily[]) =>
  all
    .filter((f) => /^(cicd|maestro)_/.test(f.name))
    .flatMap((f) => f.metric.map((m) => `${f.name}${JSON.stringify(labelsOf(m))}`))
    .sort();

async function deliver(id: string, event: string, signed: boolean): Promise<number> {
  const body = JSON.stringify({ zen: id });
  const response = await fetch(`${api.url}${PATH}`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': id,
      'x-hub-signature-256': signed ? signWebhookBody(SECRET, body) : `sha256=${'0'.repeat(64)}`,
    },
  });
  await response.text();
  return response.status;
}

async function runHello(): Promise<string> {
  const { body: wf } = await api.call('POST', '/v1/workflows', {
    raw: HELLO,
    contentType: 'application/yaml',
  });
  const { body: run } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
  await api.settle(run.id);
  return run.id as string;
}

describe('control-plane metrics', () => {
  it('times scheduling decisions, policy decisions and webhook acknowledgements by outcome', async () => {
    await runHello();
    await expect
      .poll(
        async () =>
          count(await scrape(), 'maestro_scheduling_decision_duration_seconds', {
            maestro_scheduling_outcome: 'claimed',
          }),
        POLL,
      )
      .toBeGreaterThanOrEqual(1);
    const after = await scrape();
    expect(
      count(after, 'maestro_scheduling_decision_duration_seconds', { maestro_scheduling_outcome: 'none' }),
    ).toBeGreaterThan(0);
    expect(
      count(after, 'maestro_policy_decision_duration_seconds', { maestro_policy_outcome: 'allow' }),
    ).toBeGreaterThanOrEqual(1);
    expect(count(after, 'maestro_policy_decision_duration_seconds', { maestro_policy_outcome: 'deny' })).toBe(
      0,
    );
    expect(after.find((f) => f.name === 'maestro_circuit_breaker_open')?.metric[0]?.gauge?.value).toBe(0);

    expect(await deliver('d-1', 'ping', true)).toBe(202);
    expect(await deliver('d-2', 'push', false)).toBe(401);
    await expect
      .poll(
        async () =>
          count(await scrape(), 'maestro_webhook_ack_duration_seconds', {
            maestro_webhook_outcome: 'accepted',
          }),
        POLL,
      )
      .toBe(1);
    expect(
      count(await scrape(), 'maestro_webhook_ack_duration_seconds', { maestro_webhook_outcome: 'rejected' }),
    ).toBe(1);
  });

  it('adds no series for fresh delivery ids, event names, signatures or run ids (bounded cardinality)', async () => {
    const runIds: string[] = [];
    const round = async (tag: string) => {
      runIds.push(await runHello());
      await deliver(`${tag}-signed-${'f'.repeat(40)}`, `event_${tag}`, true);
      await deliver(`${tag}-unsigned`, `event_${tag}_x`, false);
    };
    // Warm: the first round brings each HTTP status and outcome once (those are bounded sets).
    await round('warm-1');
    await round('warm-2');
    await scrape();
    const before = seriesOf(await scrape());
    runIds.length = 0;
    for (let i = 0; i < 3; i += 1) await round(`attack-${i}`);
    const text = (await api.call('GET', '/metrics')).body as string;
    for (const id of runIds) expect(text).not.toContain(id);
    expect(text).not.toContain('attack-');
    expect(text).not.toContain('event_');
    expect(seriesOf(parsePromText(text))).toEqual(before);
  });
});
