/**
 * The cost and time-to-recovery metrics on GET /metrics of a real server (docs/observability.md):
 * `maestro_task_cost_total` by namespace adds up exactly what the runs' signed receipts say their
 * attempts cost (`cost.actual`), and `maestro_workflow_recovery_duration_seconds` observes one
 * recovery when a workflow that failed (twice) succeeds, none for a success after a success, and
 * none for another workflow's success. Neither carries a run id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelsOf, parsePromText, type PromFamily } from '../helpers/prom-text.ts';
import { manifest, startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
const POLL = { timeout: 15_000, interval: 50 };

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

const payloadOf = (bundle: unknown) =>
  JSON.parse(
    Buffer.from((bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString(
      'utf8',
    ),
  ) as { predicate: { buildDefinition: { internalParameters: { maestro: Record<string, unknown> } } } };

async function scrape(): Promise<PromFamily[]> {
  return parsePromText((await api.call('GET', '/metrics')).body as string);
}

function family(all: PromFamily[], name: string) {
  return all.find((f) => f.name === name)?.metric ?? [];
}

async function runOf(yaml: string): Promise<{ id: string; status: string; finishedAt: string }> {
  const { body: wf } = await api.call('POST', '/v1/workflows', {
    raw: yaml,
    contentType: 'application/yaml',
  });
  const { body: run } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
  const { body } = await api.settle(run.id);
  return {
    id: run.id as string,
    status: body.run.status as string,
    finishedAt: body.run.finishedAt as string,
  };
}

/** What the run's attempt receipts say its attempts cost. */
async function receiptCost(id: string): Promise<number> {
  await expect
    .poll(
      async () =>
        ((await api.call('GET', '/v1/runs/{id}/receipts', { params: { id } })).body as unknown[]).length,
      POLL,
    )
    .toBeGreaterThan(1);
  const { body } = await api.call('GET', '/v1/runs/{id}/receipts', { params: { id } });
  let sum = 0;
  for (const r of body as { bundle: unknown }[]) {
    const maestro = payloadOf(r.bundle).predicate.buildDefinition.internalParameters.maestro;
    if (maestro.kind === 'attempt') sum += (maestro.cost as { actual: number }).actual;
  }
  return sum;
}

const flaky = (exit: number) => manifest('flaky', `    - id: step\n      run: "exit ${exit}"\n`);

describe('cost and recovery metrics', () => {
  it('counts the cost of every attempt by namespace and currency, as the receipts state it', async () => {
    const a = await runOf(
      manifest('costly', '    - id: one\n      run: "true"\n    - id: two\n      run: "true"\n'),
    );
    const b = await runOf(manifest('costly', '    - id: one\n      run: "exit 1"\n'));
    const expected = (await receiptCost(a.id)) + (await receiptCost(b.id));
    expect(expected).toBeGreaterThan(0);
    const series = family(await scrape(), 'maestro_task_cost_total');
    expect(series.map(labelsOf)).toEqual([{ maestro_namespace: 'quickstart', maestro_currency: 'USD' }]);
    expect(Number(series[0]!.counter!.value)).toBeCloseTo(expected, 12);
    const text = (await api.call('GET', '/metrics')).body as string;
    expect(text).not.toContain(a.id);
  });

  it('observes a workflow’s time to recovery once, from its first failure since a success to its next success', async () => {
    const recoveries = async () =>
      family(await scrape(), 'maestro_workflow_recovery_duration_seconds')
        .filter((m) => labelsOf(m).cicd_pipeline_name === 'flaky')
        .reduce((n, m) => n + Number(m.histogram?.sampleCount ?? 0), 0);
    expect((await runOf(flaky(0))).status).toBe('succeeded');
    expect((await runOf(flaky(1))).status).toBe('failed');
    const first = await runOf(flaky(2));
    expect(first.status).toBe('failed');
    // Another workflow's success recovers nothing of this one.
    expect((await runOf(manifest('steady', '    - id: s\n      run: "true"\n'))).status).toBe('succeeded');
    expect(await recoveries()).toBe(0);
    const { body: failedRun } = await api.call('GET', '/v1/runs', {
      query: { workflow: 'flaky', status: 'failed' },
    });
    const ends = (failedRun.items as { finishedAt: string }[]).map((r) => Date.parse(r.finishedAt));
    const [firstEnd, secondEnd] = [Math.min(...ends), Math.max(...ends)];
    const fixed = await runOf(flaky(0));
    expect(fixed.status).toBe('succeeded');
    await expect.poll(recoveries, POLL).toBe(1);
    const sum = family(await scrape(), 'maestro_workflow_recovery_duration_seconds').find(
      (m) => labelsOf(m).cicd_pipeline_name === 'flaky',
    )!.histogram!.sampleSum;
    // From the end of the first of the two failures (not the second) to the fix's end.
    const fromFirst = (Date.parse(fixed.finishedAt) - firstEnd) / 1000;
    const fromSecond = (Date.parse(fixed.finishedAt) - secondEnd) / 1000;
    expect(Math.abs(Number(sum) - fromFirst)).toBeLessThan((fromFirst - fromSecond) / 2);
    // A success after a success is no recovery.
    expect((await runOf(flaky(0))).status).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 200));
    expect(await recoveries()).toBe(1);
  });
});
