/**
 * The active-runs gauge when a run is queued by one process (the `api` role, or a replica) and
 * executed by another: each moves the gauge by its own events, and the sum over the two
 * registries is the number of runs in each state. Real prom-client registries; the engine is
 * only its `subscribe` (the events are what the engine publishes, see engine/events.ts).
 */
import pino from 'pino';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Engine, EngineEvent, EngineListener } from '../engine/index.ts';
import { pipelineResult, startPipelineMetrics } from './pipeline-metrics.ts';

async function processWithMetrics() {
  const listeners: EngineListener[] = [];
  const engine = { subscribe: (l: EngineListener) => (listeners.push(l), () => {}) } as unknown as Engine;
  const registry = new Registry();
  await startPipelineMetrics({
    registry,
    engine,
    pipelineName: async () => 'deploy',
    logger: pino({ level: 'silent' }),
  });
  return {
    registry,
    emit: (e: EngineEvent) => listeners.forEach((l) => l(e)),
  };
}

const run = (from: string | null, to: string, time: number): Extract<EngineEvent, { type: 'run' }> => ({
  type: 'run',
  runId: 'r-1',
  from,
  to,
  reason: 'x',
  by: 'test',
  time,
});

async function active(registries: Registry[], state: string): Promise<number> {
  let sum = 0;
  for (const r of registries) {
    const gauge = (await r.getMetricsAsJSON()).find((m) => m.name === 'cicd_pipeline_run_active');
    for (const v of (gauge?.values ?? []) as { value: number; labels: Record<string, string> }[])
      if (v.labels.cicd_pipeline_run_state === state) sum += v.value;
  }
  return sum;
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('cicd_pipeline_run_active across processes', () => {
  it('sums to the runs in each state when one process queues and another executes', async () => {
    const api = await processWithMetrics();
    const worker = await processWithMetrics();
    const both = [api.registry, worker.registry];
    api.emit(run(null, 'queued', 1000));
    await settle();
    expect(await active(both, 'pending')).toBe(1);
    worker.emit(run('queued', 'running', 2000));
    await settle();
    expect(await active(both, 'pending')).toBe(0);
    expect(await active(both, 'executing')).toBe(1);
    worker.emit(run('running', 'succeeded', 3000));
    await settle();
    expect(await active(both, 'executing')).toBe(0);
    // The worker never saw the run queued, so only the executing state is timed there.
    const histogram = (await worker.registry.getMetricsAsJSON()).find(
      (m) => m.name === 'cicd_pipeline_run_duration_seconds',
    );
    const counts = (
      (histogram?.values ?? []) as { metricName?: string; value: number; labels: Record<string, string> }[]
    )
      .filter((v) => v.metricName === 'cicd_pipeline_run_duration_seconds_count')
      .map((v) => [v.labels.cicd_pipeline_run_state, v.labels.cicd_pipeline_result, v.value]);
    expect(counts).toEqual([['executing', 'success', 1]]);
  });

  it('maps the run states to the conventions’ results', () => {
    expect(['succeeded', 'failed', 'cancelled', 'timed_out'].map((s) => pipelineResult(s, false))).toEqual([
      'success',
      'failure',
      'cancellation',
      'timeout',
    ]);
    expect(pipelineResult('failed', true)).toBe('error');
    expect(pipelineResult('running', false)).toBeUndefined();
  });
});

describe('the pipeline name and the recovery look-back', () => {
  it('come from the events that carry the run (`of`), with no read of the run; read only without them', async () => {
    const listeners: EngineListener[] = [];
    const engine = { subscribe: (l: EngineListener) => (listeners.push(l), () => {}) } as unknown as Engine;
    const looked: string[] = [];
    const known: unknown[] = [];
    const registry = new Registry();
    await startPipelineMetrics({
      registry,
      engine,
      pipelineName: async (runId) => (looked.push(runId), 'read'),
      recovery: async (_runId, _endedAt, of) => (known.push(of), undefined),
      logger: pino({ level: 'silent' }),
    });
    const emit = (e: EngineEvent) => listeners.forEach((l) => l(e));
    const of = { workflow: 'deploy', namespace: 'ns', createdAt: 1000 };
    emit({ ...run(null, 'queued', 1000), of });
    emit({ ...run('queued', 'running', 2000), of });
    emit({ ...run('running', 'succeeded', 3000), of });
    // A run this process first sees through an event without `of`: its name is read.
    emit({ ...run(null, 'queued', 1000), runId: 'r-2' });
    emit({ ...run('queued', 'running', 2000), runId: 'r-2' });
    emit({ ...run('running', 'succeeded', 3000), runId: 'r-2' });
    await settle();
    expect(looked).toEqual(['r-2']);
    expect(known).toEqual([of, undefined]);
    const names = (await registry.getMetricsAsJSON())
      .find((m) => m.name === 'cicd_pipeline_run_duration_seconds')
      ?.values.map((v) => v.labels.cicd_pipeline_name);
    expect(new Set(names)).toEqual(new Set(['deploy', 'read']));
  });
});
