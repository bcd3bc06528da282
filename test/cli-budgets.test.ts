/**
 * `maestro budgets` and `maestro usage report` through the CLI: on the local store (SQLite in the
 * data dir, as `maestro run` uses it) and against a server (--server, the API's scopes). A
 * namespace budget set by the CLI holds `maestro run` to it; the usage report adds up what ran.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAsyncStore } from '../engine/index.ts';
import { runCaptured, writeWorkflow } from './cli-helpers.ts';
import { finish, newRun, startOf } from './store-contract/store-contract.ts';
import { startApi, type ApiHarness } from './api/api-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-cli-budgets-'));
const env = { PATH: process.env.PATH, HOME: dir, MAESTRO_DATA_DIR: join(dir, 'data') };
const cli = (...args: string[]) => runCaptured(args, dir, env);

describe('maestro budgets and usage on the local store', () => {
  const flow = writeWorkflow(dir, 'team', '    - id: t\n      run: "echo hi"\n      timeout: 30s\n');

  it('sets a namespace budget that holds `maestro run` to it, then reports the usage', async () => {
    const set = await cli(
      'budgets',
      'set',
      'team',
      '--limit',
      '0.0001',
      '--currency',
      'USD',
      '--period',
      'month',
      '--soft',
      '80%',
    );
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('team: 0.0001000 USD per month, warns past 80%; spent 0.000 USD since');
    const refused = await cli('run', flow);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain('budget exceeded');
    expect((await cli('budgets', 'set', 'team', '--limit', '10')).code).toBe(0);
    const ran = await cli('run', flow);
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    const shown = await cli('budgets', 'show', 'team', '--format', 'json');
    expect(JSON.parse(shown.stdout)).toMatchObject({
      namespace: 'team',
      limit: 10,
      soft: null,
      currency: 'USD',
    });
    expect(JSON.parse(shown.stdout).spent).toBeGreaterThan(0);
    const csv = await cli('usage', 'report', '--group-by', 'task', '--format', 'csv');
    expect(csv.code, csv.stderr).toBe(0);
    const [header, row, ...rest] = csv.stdout.trim().split('\n');
    expect(header).toBe(
      'namespace,workflow,task,runs,attempts,taskHours,estimatedCost,actualCost,savings,currency',
    );
    // Not placed by price-aware placement: it saved nothing against on-demand.
    expect(row).toMatch(/^team,flow,t,1,1,[0-9.e-]+,0\.000411\d*,[0-9.e-]+,0,USD$/);
    expect(rest).toEqual([]);
    const json = JSON.parse(
      (await cli('usage', 'report', '--namespace', 'other', '--format', 'json')).stdout,
    );
    expect(json).toMatchObject({ groupBy: 'namespace', currency: 'USD', items: [] });
    const team = JSON.parse((await cli('usage', 'report', '--namespace', 'team', '--format', 'json')).stdout);
    expect(team.items).toEqual([expect.objectContaining({ namespace: 'team', runs: 1, savings: 0 })]);
    const list = JSON.parse((await cli('budgets', 'list', '--format', 'json')).stdout);
    expect(list.items.map((b: { namespace: string }) => b.namespace)).toEqual(['team']);
  });

  it("reports price-aware placement's savings against on-demand, in CSV and JSON", async () => {
    // A placed attempt as the engine stores it (test/engine-placement.test.ts runs one), in the
    // store `maestro run` uses; its run waits for approval, so nothing else touches it.
    const store = await openAsyncStore({ dataDir: env.MAESTRO_DATA_DIR });
    const t0 = Date.now() - 60_000;
    try {
      await store.createRun(newRun('spot-run', t0, { namespace: 'spotty', awaitApproval: true }));
      await store.transitionTask('spot-run', 'a', 'queued', 'ready', 'dependencies_met', 'e', t0);
      const start = { ...startOf('spot-1', 'spot-run', 'a'), startedAt: t0, leaseMs: 60_000 };
      const token = await store.startAttempt(
        { ...start, pricePerHour: 0.6, onDemandPerHour: 2.4 },
        { from: 'ready', to: 'running', reason: 'started', by: 'e', time: t0 },
      );
      await store.finishAttempt('spot-1', token, t0 + 60_000, { ...finish, finishedAt: t0 + 60_000 });
    } finally {
      await store.close();
    }
    // A minute at 0.60/h against on-demand's 2.40/h: 1.8 / 60 = 0.03 saved.
    const csv = await cli('usage', 'report', '--namespace', 'spotty', '--format', 'csv');
    expect(csv.code, csv.stderr).toBe(0);
    const [, row] = csv.stdout.trim().split('\n');
    expect(Number(row!.split(',')[8])).toBeCloseTo(0.03, 9);
    const json = await cli('usage', 'report', '--namespace', 'spotty', '--format', 'json');
    expect(JSON.parse(json.stdout).items[0].savings).toBeCloseTo(0.03, 9);
  });

  it('refuses bad flags with a usage error naming them', async () => {
    const soft = await cli('budgets', 'set', 'team', '--limit', '5', '--soft', '120%');
    expect(soft.code).toBe(2);
    expect(soft.stderr).toContain('--soft expects a share of the limit');
    const limit = await cli('budgets', 'set', 'team', '--limit', '-3');
    expect(limit.stderr).toContain('--limit expects a number of at least 0, got -3');
    const since = await cli('usage', 'report', '--since', 'yesterday');
    expect(since.stderr).toContain('--since expects an ISO date');
  });
});

describe('maestro budgets and usage against a server', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => api?.close());
  const remote = (token: string, ...args: string[]) =>
    runCaptured([...args, '--server', api.url], dir, {
      PATH: process.env.PATH,
      HOME: dir,
      MAESTRO_TOKEN: token,
    });

  it('sets a budget only with budgets:write, and reports usage with usage:read', async () => {
    const reader = await api.mint(['usage:read']);
    const denied = await remote(reader, 'budgets', 'set', 'quickstart', '--limit', '1000');
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('this route needs the scope budgets:write');
    const writer = await api.mint(['budgets:write']);
    const set = await remote(
      writer,
      'budgets',
      'set',
      'quickstart',
      '--limit',
      '1000',
      '--max-runs',
      '2',
      '--max-tasks',
      '3',
    );
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toContain('quickstart: 1000.00 USD per month; spent 0.000 USD since');
    expect(set.stdout).toContain('at once: 2 runs, 3 tasks');
    const shown = await remote(reader, 'budgets', 'show', 'quickstart', '--format', 'json');
    expect(JSON.parse(shown.stdout)).toMatchObject({ namespace: 'quickstart', maxRuns: 2, maxTasks: 3 });
    const report = await remote(reader, 'usage', 'report', '--format', 'json', '--group-by', 'workflow');
    expect(report.code, report.stderr).toBe(0);
    expect(JSON.parse(report.stdout)).toMatchObject({ groupBy: 'workflow', items: [] });
  });
});
