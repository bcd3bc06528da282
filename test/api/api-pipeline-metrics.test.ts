/**
 * The CI/CD semantic conventions' metrics on GET /metrics, over HTTP against the real server with
 * its worker role: after a succeeded, a failed and a retried run the scrape (read by Prometheus's
 * own text parser) holds the pipeline, task and worker series with the conventions' label values
 * and the right counts; and runs with distinct ids add no series (no run id, task id or SHA is a
 * label).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labelsOf, parsePromText, type PromFamily, type PromSample } from '../helpers/prom-text.ts';
import { HELLO, manifest, startApi, type ApiHarness } from './api-harness.ts';
import { DEFAULT_WORKER_RUNS } from '../../runtime/index.ts';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

// A scrape spawns Prometheus's parser: under load, a few seconds may pass before the events apply.
const POLL = { timeout: 15_000, interval: 50 };

const postYaml = (text: string) =>
  api.call('POST', '/v1/workflows', { raw: text, contentType: 'application/yaml' });

async function families(): Promise<{ text: string; families: PromFamily[] }> {
  const answer = await api.call('GET', '/metrics');
  expect(answer.status).toBe(200);
  return { text: answer.body as string, families: parsePromText(answer.body as string) };
}

function samples(all: PromFamily[], name: string, labels: Record<string, string> = {}): PromSample[] {
  const family = all.find((f) => f.name === name);
  return (family?.metric ?? []).filter((m) => Object.entries(labels).every(([k, v]) => labelsOf(m)[k] === v));
}

/** A histogram's observations, or a counter's or a gauge's value, summed over matching series. */
function value(all: PromFamily[], name: string, labels: Record<string, string> = {}): number {
  return samples(all, name, labels).reduce(
    (sum, m) => sum + Number(m.histogram?.sampleCount ?? m.counter?.value ?? m.gauge?.value ?? 0),
    0,
  );
}

/** Runs one run of `digest` to its end; the metrics follow the engine's events, so wait for them too. */
async function runToEnd(digest: string, name: string, result: string): Promise<string> {
  const before = value((await families()).families, 'cicd_pipeline_run_duration_seconds', {
    cicd_pipeline_name: name,
    cicd_pipeline_result: result,
  });
  const { body: run } = await api.call('POST', '/v1/runs', { body: { workflow: digest } });
  await api.settle(run.id);
  await expect
    .poll(
      async () =>
        value((await families()).families, 'cicd_pipeline_run_duration_seconds', {
          cicd_pipeline_name: name,
          cicd_pipeline_result: result,
        }),
      POLL,
    )
    .toBe(before + 1);
  return run.id as string;
}

const PIPELINE_FAMILIES = [
  'cicd_pipeline_run_duration_seconds',
  'cicd_pipeline_run_active',
  'cicd_pipeline_run_errors_total',
  'cicd_system_errors_total',
  'cicd_worker_count',
  'maestro_task_run_duration_seconds',
  'maestro_task_queue_duration_seconds',
  'maestro_task_retries_total',
  'maestro_task_cache_hits_total',
  'maestro_approval_wait_duration_seconds',
];

describe('CI/CD pipeline metrics', () => {
  it('counts a succeeded, a failed and a retried run under the conventions’ names and values', async () => {
    const { body: hello } = await postYaml(HELLO);
    const { body: broken } = await postYaml(
      manifest('broken-build', '    - id: compile\n      run: "exit 3"\n'),
    );
    const { body: flaky } = await postYaml(
      manifest(
        'flaky-test',
        '    - id: test\n      run: "exit 1"\n      retry:\n        limit: 1\n        backoff: { initial: 10ms, factor: 1, max: 10ms }\n',
      ),
    );
    const ids = [
      await runToEnd(hello.digest, 'hello', 'success'),
      await runToEnd(broken.digest, 'broken-build', 'failure'),
      await runToEnd(flaky.digest, 'flaky-test', 'failure'),
    ];
    const { text, families: all } = await families();
    const run = (name: string, state: string, result?: string) =>
      value(all, 'cicd_pipeline_run_duration_seconds', {
        cicd_pipeline_name: name,
        cicd_pipeline_run_state: state,
        ...(result ? { cicd_pipeline_result: result } : {}),
      });
    expect(all.find((f) => f.name === 'cicd_pipeline_run_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(run('hello', 'executing', 'success')).toBe(1);
    expect(run('broken-build', 'executing', 'failure')).toBe(1);
    expect(run('broken-build', 'executing', 'success')).toBe(0);
    // Each run was pending (queued) before it executed: one observation of that state each.
    expect(
      samples(all, 'cicd_pipeline_run_duration_seconds', { cicd_pipeline_run_state: 'pending' }),
    ).not.toHaveLength(0);
    expect(run('hello', 'pending')).toBe(1);
    // Nothing is active once every run has ended; the gauge went up and came back down.
    for (const state of ['pending', 'executing'])
      expect(
        value(all, 'cicd_pipeline_run_active', {
          cicd_pipeline_name: 'hello',
          cicd_pipeline_run_state: state,
        }),
      ).toBe(0);
    expect(samples(all, 'cicd_pipeline_run_active', { cicd_pipeline_name: 'hello' }).length).toBeGreaterThan(
      0,
    );
    // The failed task is an error of its run, with the stable reason as error_type.
    expect(
      value(all, 'cicd_pipeline_run_errors_total', {
        cicd_pipeline_name: 'broken-build',
        error_type: 'exited_non_zero',
      }),
    ).toBe(1);
    expect(value(all, 'cicd_pipeline_run_errors_total', { cicd_pipeline_name: 'hello' })).toBe(0);
    // A failing test is not an error of the CI/CD system.
    expect(value(all, 'cicd_system_errors_total')).toBe(0);
    // The worker's run slots (the default), all free now.
    expect(value(all, 'cicd_worker_count', { cicd_worker_state: 'available' })).toBe(DEFAULT_WORKER_RUNS);
    expect(value(all, 'cicd_worker_count', { cicd_worker_state: 'busy' })).toBe(0);
    // Task metrics: hello's three tasks that ran (its `shout` is skipped by its condition).
    expect(
      value(all, 'maestro_task_run_duration_seconds', {
        cicd_pipeline_name: 'hello',
        maestro_task_result: 'succeeded',
      }),
    ).toBe(3);
    expect(value(all, 'maestro_task_queue_duration_seconds', { cicd_pipeline_name: 'hello' })).toBe(3);
    expect(
      value(all, 'maestro_task_run_duration_seconds', {
        cicd_pipeline_name: 'broken-build',
        maestro_task_result: 'failed',
      }),
    ).toBe(1);
    // flaky-test: its first attempt failed and was retried; both attempts are timed.
    expect(value(all, 'maestro_task_retries_total', { cicd_pipeline_name: 'flaky-test' })).toBe(1);
    expect(value(all, 'maestro_task_retries_total', { cicd_pipeline_name: 'hello' })).toBe(0);
    expect(
      value(all, 'maestro_task_run_duration_seconds', {
        cicd_pipeline_name: 'flaky-test',
        maestro_task_result: 'failed',
      }),
    ).toBe(2);
    for (const id of ids) expect(text).not.toContain(id);
  });

  it('adds no series for runs with distinct ids (bounded cardinality)', async () => {
    const { body: wf } = await postYaml(
      manifest(
        'steady',
        '    - id: a\n      run: "true"\n      cache:\n        enabled: true\n        ttl: 1h\n',
      ),
    );
    // Twice first: the second run is answered from the cache, a result of its own.
    await runToEnd(wf.digest, 'steady', 'success');
    await runToEnd(wf.digest, 'steady', 'success');
    const series = (all: PromFamily[]) =>
      PIPELINE_FAMILIES.reduce((n, name) => n + samples(all, name).length, 0);
    const before = series((await families()).families);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await runToEnd(wf.digest, 'steady', 'success'));
    const { text, families: all } = await families();
    expect(series(all)).toBe(before);
    expect(
      value(all, 'cicd_pipeline_run_duration_seconds', {
        cicd_pipeline_name: 'steady',
        cicd_pipeline_run_state: 'executing',
      }),
    ).toBe(5);
    // The first run's task ran; the four after it were answered from the cache.
    const steady = { cicd_pipeline_name: 'steady' };
    expect(value(all, 'maestro_task_cache_hits_total', steady)).toBe(4);
    expect(
      value(all, 'maestro_task_run_duration_seconds', { ...steady, maestro_task_result: 'succeeded' }),
    ).toBe(1);
    for (const id of ids) expect(text).not.toContain(id);
    for (const f of all.filter((x) => PIPELINE_FAMILIES.includes(x.name)))
      for (const m of f.metric)
        for (const v of Object.values(labelsOf(m)))
          expect(v, `${f.name} label`).not.toMatch(/[0-9a-f]{32,}|^sha256:/);
  });

  it('shows a run executing and a worker slot busy while it runs, then its cancellation', async () => {
    const { body: wf } = await postYaml(manifest('slow-deploy', '    - id: a\n      run: "sleep 20"\n'));
    const { body: run } = await api.call('POST', '/v1/runs', { body: { workflow: wf.digest } });
    const now = async () => (await families()).families;
    const executing = { cicd_pipeline_name: 'slow-deploy', cicd_pipeline_run_state: 'executing' };
    await expect.poll(async () => value(await now(), 'cicd_pipeline_run_active', executing), POLL).toBe(1);
    const during = await now();
    expect(value(during, 'cicd_worker_count', { cicd_worker_state: 'busy' })).toBe(1);
    expect(value(during, 'cicd_worker_count', { cicd_worker_state: 'available' })).toBe(
      DEFAULT_WORKER_RUNS - 1,
    );
    expect(
      value(during, 'cicd_pipeline_run_active', { ...executing, cicd_pipeline_run_state: 'pending' }),
    ).toBe(0);
    const cancelled = await api.call('POST', '/v1/runs/{id}/cancel', { params: { id: run.id } });
    expect(cancelled.status).toBe(200);
    expect((await api.settle(run.id)).body.run.status).toBe('cancelled');
    await expect
      .poll(
        async () =>
          value(await now(), 'cicd_pipeline_run_duration_seconds', {
            ...executing,
            cicd_pipeline_result: 'cancellation',
          }),
        POLL,
      )
      .toBe(1);
    const after = await now();
    expect(value(after, 'cicd_pipeline_run_active', executing)).toBe(0);
    await expect
      .poll(async () => value(await now(), 'cicd_worker_count', { cicd_worker_state: 'busy' }), POLL)
      .toBe(0);
  });

  it('times the wait for an approval, by outcome', async () => {
    const gatedApi = await startApi({ teams: 'teams:\n  ops: [alice]\n' });
    try {
      const text = manifest(
        'gated-release',
        '    - id: a\n      run: "true"\n',
        '  approvals:\n    required: 1\n    from: [team:ops]\n',
      );
      const wf = await gatedApi.call('POST', '/v1/workflows', { raw: text, contentType: 'application/yaml' });
      const run = await gatedApi.call('POST', '/v1/runs', { body: { workflow: wf.body.digest } });
      expect(run.body.status).toBe('waiting_for_approval');
      const scrape = async () => parsePromText((await gatedApi.call('GET', '/metrics')).body as string);
      const waiting = { cicd_pipeline_name: 'gated-release', cicd_pipeline_run_state: 'pending' };
      await expect.poll(async () => value(await scrape(), 'cicd_pipeline_run_active', waiting), POLL).toBe(1);
      const alice = await gatedApi.mint(['approvals:write', 'runs:read'], { user: 'alice' });
      const approved = await gatedApi.call('POST', '/v1/runs/{id}/approvals', {
        params: { id: run.body.id },
        token: alice,
      });
      expect(approved.status).toBe(201);
      expect((await gatedApi.settle(run.body.id)).body.run.status).toBe('succeeded');
      const granted = { cicd_pipeline_name: 'gated-release', maestro_approval_outcome: 'granted' };
      await expect
        .poll(async () => value(await scrape(), 'maestro_approval_wait_duration_seconds', granted), POLL)
        .toBe(1);
      expect(value(await scrape(), 'cicd_pipeline_run_active', waiting)).toBe(0);
    } finally {
      await gatedApi.close();
    }
  });
});
