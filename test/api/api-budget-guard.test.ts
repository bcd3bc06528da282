/**
 * The budget guard through the API, on the real server: a workflow whose `spec.budget` is below
 * its task's estimated cost (the default price table × the task's timeout) fails that task
 * before it starts, with reason `budget_exceeded` and a message naming the estimate, the limit
 * and what is spent (in the transition and the task's log); no attempt is made. A budget that
 * covers the estimate lets the run succeed. Before this guard, `spec.budget` was never read and
 * the over-budget run succeeded (the attack this test reproduces).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifest, startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

async function runWith(name: string, limit: number, on: ApiHarness = api) {
  const yaml = manifest(
    name,
    '    - id: expensive\n      run: "echo ran"\n      timeout: 1h\n      resources: xlarge\n',
    `  budget: { limit: ${limit}, currency: USD }\n`,
  );
  const { body: wf, status } = await on.call('POST', '/v1/workflows', {
    raw: yaml,
    contentType: 'application/yaml',
  });
  expect(status, JSON.stringify(wf)).toBeLessThan(300);
  const { body: run } = await on.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
  return { id: run.id as string, settled: await on.settle(run.id) };
}

describe('budget guard (spec.budget)', () => {
  it('fails a task whose estimate exceeds the run’s budget before it starts, saying estimate, limit and spent', async () => {
    const { id, settled } = await runWith('over-budget', 0.05);
    expect(settled.body.run.status).toBe('failed');
    const { body: transitions } = await api.call('GET', '/v1/runs/{id}/transitions', { params: { id } });
    const items = (transitions.items ?? transitions) as {
      kind?: string;
      taskId?: string;
      to: string;
      reason: string;
      detail?: string;
    }[];
    const failed = items.find((t) => t.to === 'failed' && t.reason === 'budget_exceeded');
    expect(failed, JSON.stringify(items)).toBeDefined();
    // xlarge (8 vCPU, 16 GB) for its 1 h timeout at the default on-demand rate: 0.3950 USD.
    expect(failed!.detail).toContain('estimated cost 0.3950 USD');
    expect(failed!.detail).toContain('budget of 0.05000 USD');
    expect(failed!.detail).toContain('0.000 USD already spent');
    expect(JSON.stringify(settled.body)).not.toContain('"attempt":1,"status":"succeeded"');
  });

  it('lets a run within its budget run', async () => {
    const { settled } = await runWith('within-budget', 1);
    expect(settled.body.run.status).toBe('succeeded');
  });
});

describe('the operator price table (MAESTRO_PRICE_TABLE)', () => {
  it('prices the estimate: a budget the default table allows is exceeded at the operator’s price', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-prices-'));
    const file = join(dir, 'prices.yaml');
    writeFileSync(file, 'currency: USD\nperHour:\n  local:\n    xlarge: 12.5\n');
    const priced = await startApi({ env: { MAESTRO_PRICE_TABLE: file } });
    try {
      const { id, settled } = await runWith('operator-priced', 1, priced);
      expect(settled.body.run.status).toBe('failed');
      const { body } = await priced.call('GET', '/v1/runs/{id}/transitions', { params: { id } });
      const failed = ((body.items ?? body) as { reason: string; detail?: string }[]).find(
        (t) => t.reason === 'budget_exceeded',
      );
      expect(failed?.detail).toContain('estimated cost 12.50 USD');
    } finally {
      await priced.close();
    }
  });
});
