/**
 * Namespace budgets and usage through the API, on SQLite and PostgreSQL (docs/budgets.md). The
 * attacks: a token without `budgets:write` sets no budget; a token limited to another namespace
 * neither sets nor reads this one's budget or usage (before these routes and scopes, nothing
 * held a namespace to a budget at all: the over-budget run below succeeded). Then the guard: a
 * namespace budget below the task's estimate fails it before it starts; past the soft threshold
 * it runs with a warning on its `started` transition; the receipt carries the attempt's cost;
 * the usage report adds it up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../setup/postgres-server.ts';
import { finish, newRun, startOf } from '../store-contract/store-contract.ts';
import { manifest, startApi, type ApiHarness } from './api-harness.ts';

const payloadOf = (bundle: unknown) =>
  JSON.parse(
    Buffer.from((bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload, 'base64').toString(
      'utf8',
    ),
  ) as { predicate: { buildDefinition: { internalParameters: { maestro: Record<string, unknown> } } } };

interface Transition {
  task: string | null;
  to: string;
  reason: string;
  detail?: string;
}

for (const store of ['sqlite', 'postgres'] as const) {
  describe(`namespace budgets through the API (${store})`, () => {
    let api: ApiHarness;
    let pg: PostgresServer | undefined;

    beforeAll(async () => {
      pg = store === 'postgres' ? await startPostgres() : undefined;
      const databaseUrl = pg?.createDatabase('api_budgets');
      api = await startApi(databaseUrl ? { databaseUrl } : {});
    });
    afterAll(async () => {
      await api?.close();
      pg?.stop();
    });

    const setBudget = (body: Record<string, unknown>, token?: string) =>
      api.call('PUT', '/v1/budgets/{namespace}', {
        params: { namespace: 'quickstart' },
        body: { currency: 'USD', period: 'month', ...body },
        ...(token ? { token } : {}),
      });

    async function runOf(name: string, tasks = '    - id: work\n      run: "echo ran"\n') {
      const yaml = manifest(name, tasks);
      const { body: wf } = await api.call('POST', '/v1/workflows', {
        raw: yaml,
        contentType: 'application/yaml',
      });
      const { body: run } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
      const settled = await api.settle(run.id);
      const { body } = await api.call('GET', '/v1/runs/{id}/transitions', { params: { id: run.id } });
      return {
        id: run.id as string,
        status: settled.body.run.status as string,
        transitions: (body.items ?? body) as Transition[],
      };
    }

    it('refuses a token without budgets:write, and one limited to another namespace', async () => {
      const runner = await api.mint(['runs:write', 'runs:read', 'workflows:write', 'usage:read']);
      const denied = await setBudget({ limit: 1_000_000 }, runner);
      expect(denied.status).toBe(403);
      expect(denied.body.code).toBe('forbidden_scope');
      const elsewhere = await api.mint(['budgets:write', 'usage:read'], { namespaces: ['data'] });
      expect((await setBudget({ limit: 1_000_000 }, elsewhere)).body.code).toBe('forbidden_namespace');
      const read = await api.call('GET', '/v1/budgets/{namespace}', {
        params: { namespace: 'quickstart' },
        token: elsewhere,
      });
      expect(read.body.code).toBe('forbidden_namespace');
      expect(
        (await api.call('GET', '/v1/budgets/{namespace}', { params: { namespace: 'quickstart' } })).status,
      ).toBe(404);
    });

    it('fails a task whose estimate would take the namespace past its budget, before it starts', async () => {
      const set = await setBudget({ limit: 0.0001 });
      expect(set.status, JSON.stringify(set.body)).toBe(200);
      expect(set.body).toMatchObject({
        namespace: 'quickstart',
        limit: 0.0001,
        period: 'month',
        updatedBy: 'tester',
      });
      const { status, transitions } = await runOf('ns-over');
      expect(status).toBe('failed');
      const failed = transitions.find((t) => t.reason === 'budget_exceeded');
      // small (1 vCPU, 2 GB) for its 30 s timeout, no history yet: 0.04937 × 30 / 3600 = 0.0004114 USD.
      expect(failed?.detail).toBe(
        "budget exceeded: this task's estimated cost 0.0004114 USD plus 0.000 USD already spent by namespace quickstart this month is over its budget of 0.0001000 USD per month (maestro budgets)",
      );
      expect(transitions.some((t) => t.task === 'work' && t.to === 'running')).toBe(false);
    });

    it('runs past the soft threshold with a warning, and puts the attempt’s cost in its receipt', async () => {
      await setBudget({ limit: 0.0005, soft: 0.8 });
      const { id, status, transitions } = await runOf('ns-soft');
      expect(status).toBe('succeeded');
      const started = transitions.find((t) => t.task === 'work' && t.to === 'running');
      expect(started?.detail).toContain('budget warning: ');
      expect(started?.detail).toContain('is past 80% of its budget of 0.0005000 USD per month');
      const { body: receipts } = await api.call('GET', '/v1/runs/{id}/receipts', { params: { id } });
      const attempt = (receipts as { task: string; bundle: unknown }[]).find((r) => r.task === 'work')!;
      const cost = payloadOf(attempt.bundle).predicate.buildDefinition.internalParameters.maestro
        .cost as Record<string, number | string>;
      expect(cost).toMatchObject({ currency: 'USD', pricePerHour: 0.04937 });
      expect(cost.estimated).toBeCloseTo((0.04937 * 30) / 3600, 9);
      expect(cost.actual).toBeGreaterThan(0);
      expect(cost.actual).toBeLessThan(cost.estimated as number);
      const { body: budget } = await api.call('GET', '/v1/budgets/{namespace}', {
        params: { namespace: 'quickstart' },
      });
      expect(budget.spent).toBeCloseTo(cost.actual as number, 9);
      expect(budget.periodStart).toMatch(/-01T00:00:00\.000Z$/);
    });

    it('holds a namespace to its runs quota: the second run waits queued, says why, then runs (never failed)', async () => {
      await setBudget({ limit: 1000, maxRuns: 1 });
      const yaml = manifest('ns-quota', '    - id: slow\n      run: "sleep 1"\n');
      const { body: wf } = await api.call('POST', '/v1/workflows', {
        raw: yaml,
        contentType: 'application/yaml',
      });
      const first = (await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } })).body.id as string;
      const second = (await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } })).body
        .id as string;
      expect((await api.settle(first)).body.run.status).toBe('succeeded');
      expect((await api.settle(second)).body.run.status).toBe('succeeded');
      const times = async (id: string) => {
        const { body } = await api.call('GET', '/v1/runs/{id}/transitions', { params: { id } });
        const items = (body.items ?? body) as (Transition & { time: string })[];
        const at = (to: string) => Date.parse(items.find((t) => t.task === null && t.to === to)!.time);
        return { started: at('running'), finished: at('succeeded') };
      };
      // One at a time: the second started only once the first had finished.
      expect((await times(second)).started).toBeGreaterThanOrEqual((await times(first)).finished);
      const logs = await api.call('GET', '/v1/runs/{id}/logs', { params: { id: second } });
      expect(String(logs.body)).toContain(
        'waiting: namespace quickstart is at its quota of 1 runs at once; this run starts when one of them ends, in its turn',
      );
      await setBudget({ limit: 1000 });
    });

    it('holds a namespace to its tasks quota: parallel tasks run one at a time, wait ready with reason quota_tasks, none fails', async () => {
      await setBudget({ limit: 1000, maxTasks: 1 });
      const { body: shown } = await api.call('GET', '/v1/budgets/{namespace}', {
        params: { namespace: 'quickstart' },
      });
      expect(shown.maxTasks).toBe(1);
      // Long enough that a waiting task tries again (every second) while the one before it runs.
      const tasks = ['a', 'b', 'c'].map((t) => `    - id: ${t}\n      run: "sleep 1.5"\n`).join('');
      const { id, status, transitions } = await runOf('ns-task-quota', tasks);
      expect(status).toBe('succeeded');
      const items = transitions as (Transition & { time: string; reason: string; detail?: string })[];
      const waited = items.filter((t) => t.reason === 'quota_tasks');
      expect(waited.length).toBeGreaterThanOrEqual(2);
      expect(waited[0]!.detail).toBe(
        'waiting: namespace quickstart is at its quota of 1 tasks at once; this task starts when one of them ends, in its turn',
      );
      // One at a time: each task started only once the one before had finished.
      const span = (task: string) => ({
        start: Date.parse(items.find((t) => t.task === task && t.to === 'running')!.time),
        end: Date.parse(items.find((t) => t.task === task && t.to === 'succeeded')!.time),
      });
      const spans = ['a', 'b', 'c'].map(span).sort((x, y) => x.start - y.start);
      for (let i = 1; i < spans.length; i++)
        expect(spans[i]!.start).toBeGreaterThanOrEqual(spans[i - 1]!.end);
      const logs = await api.call('GET', '/v1/runs/{id}/logs', { params: { id } });
      expect(String(logs.body)).toContain('is at its quota of 1 tasks at once');
      // A waiting task asks the store for its turn; it is not prepared again each second. So a task
      // has the policy decision of the attempt that ran, and at most one more: a first try that
      // raced the others' starts (the read is advisory, the start's count decides). Retried once a
      // second, c (waiting for a and b, 3 s) had one per try.
      const { body: decisions } = await api.call('GET', '/v1/runs/{id}/decisions', { params: { id } });
      const tasksDecided = (decisions.items as { task: string }[]).map((d) => d.task);
      for (const task of ['a', 'b', 'c']) {
        const n = tasksDecided.filter((t) => t === task).length;
        expect(n, `${task}: ${tasksDecided.join(' ')}`).toBeGreaterThanOrEqual(1);
        expect(n, `${task}: ${tasksDecided.join(' ')}`).toBeLessThanOrEqual(2);
      }
      await setBudget({ limit: 1000 });
    });

    it('reports usage by task, and a token limited to another namespace reads only its own', async () => {
      const { body: report, status } = await api.call('GET', '/v1/usage', { query: { groupBy: 'task' } });
      expect(status, JSON.stringify(report)).toBe(200);
      expect(report.currency).toBe('USD');
      const row = (report.items as Record<string, unknown>[]).find((r) => r.workflow === 'ns-soft');
      expect(row).toMatchObject({ namespace: 'quickstart', task: 'work', runs: 1, attempts: 1 });
      expect(row!.actualCost as number).toBeGreaterThan(0);
      expect(row!.estimatedCost as number).toBeCloseTo((0.04937 * 30) / 3600, 9);
      expect(row!.taskHours as number).toBeGreaterThan(0);
      // The refused run made no attempt, so it costs nothing and is not in the report.
      expect((report.items as Record<string, unknown>[]).some((r) => r.workflow === 'ns-over')).toBe(false);
      const elsewhere = await api.mint(['usage:read'], { namespaces: ['data'] });
      const other = await api.call('GET', '/v1/usage', {
        query: { namespace: 'quickstart' },
        token: elsewhere,
      });
      expect(other.status).toBe(403);
      expect(other.body.code).toBe('forbidden_namespace');
      const own = await api.call('GET', '/v1/usage', { token: elsewhere });
      expect(own).toMatchObject({ status: 200, body: { items: [] } });
      // A time that does not parse is the caller's error, named, not a 500.
      const badTime = await api.call('GET', '/v1/usage', { query: { since: '2026-13-45T99:00:00Z' } });
      expect(badTime.status).toBe(400);
      expect(badTime.body.errors[0].pointer).toBe('/query/since');
      expect((await api.call('GET', '/v1/budgets', { token: elsewhere })).body.items).toEqual([]);
      expect(
        (await api.call('GET', '/v1/budgets')).body.items.map((b: { namespace: string }) => b.namespace),
      ).toEqual(['quickstart']);
    });

    it("reports price-aware placement's savings per group: a spot attempt's, none for one lost", async () => {
      // Stored as the engine stores placed attempts (test/engine-placement.test.ts runs one);
      // the run waits for approval so no worker claims it.
      const s = api.runtime.store;
      const t0 = Date.now() - 60_000;
      await s.createRun(newRun('spotty-run', t0, { namespace: 'spotty', awaitApproval: true }));
      const placed = async (taskId: string, id: string, reason: string | null) => {
        await s.transitionTask('spotty-run', taskId, 'queued', 'ready', 'dependencies_met', 'e', t0);
        const start = { ...startOf(id, 'spotty-run', taskId), startedAt: t0, leaseMs: 60_000 };
        const token = await s.startAttempt(
          { ...start, pricePerHour: 0.015, onDemandPerHour: 0.1 },
          { from: 'ready', to: 'running', reason: 'started', by: 'e', time: t0 },
        );
        const end = t0 + 1_800_000 / 60; // 30 s
        await s.finishAttempt(id, token, end, { ...finish, reason, finishedAt: end });
      };
      await placed('a', 'spotty-1', null);
      await placed('c', 'spotty-2', 'spot_lost');
      const { body, status } = await api.call('GET', '/v1/usage', {
        query: { namespace: 'spotty', groupBy: 'task' },
      });
      expect(status, JSON.stringify(body)).toBe(200);
      const rows = body.items as { task: string; savings: number }[];
      // 30 s at 0.015/h against on-demand's 0.10/h: 0.085 × 30 / 3600; the lost one saved nothing.
      expect(rows.map((r) => [r.task, r.savings])).toEqual([
        ['a', expect.closeTo((0.085 * 30) / 3600, 12)],
        ['c', 0],
      ]);
      const { body: quick } = await api.call('GET', '/v1/usage', { query: { namespace: 'quickstart' } });
      expect(quick.items[0].savings).toBe(0); // nothing placed there
    });
  });
}
