import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { otelName, registryToOtel } from './otlp-metrics.ts';

describe('otelName', () => {
  it('reverses the Prometheus exporter’s naming of docs/observability.md’s mapping', () => {
    expect(otelName('cicd_pipeline_run_duration_seconds', 'histogram')).toEqual({
      name: 'cicd.pipeline.run.duration',
      unit: 's',
    });
    expect(otelName('cicd_pipeline_run_errors_total', 'counter').name).toBe('cicd.pipeline.run.errors');
    expect(otelName('cicd_worker_count', 'gauge').name).toBe('cicd.worker.count');
    expect(otelName('maestro_task_cache_hits_total', 'counter').name).toBe('maestro.task.cache.hits');
    expect(otelName('maestro_http_requests_in_flight', 'gauge').name).toBe('maestro.http.requests.in_flight');
  });
});

describe('registryToOtel', () => {
  it('turns cumulative buckets into per-bucket counts, labels into attributes, and skips process metrics', async () => {
    const registry = new Registry();
    const h = new Histogram({
      name: 'maestro_task_run_duration_seconds',
      help: 'h',
      labelNames: ['cicd_pipeline_name'],
      buckets: [1, 5],
      registers: [registry],
    });
    h.observe({ cicd_pipeline_name: 'a' }, 0.5);
    h.observe({ cicd_pipeline_name: 'a' }, 3);
    h.observe({ cicd_pipeline_name: 'a' }, 9);
    h.observe({ cicd_pipeline_name: 'b' }, 2);
    new Counter({ name: 'maestro_task_retries_total', help: 'c', registers: [registry] }).inc(2);
    new Gauge({
      name: 'cicd_pipeline_run_active',
      help: 'g',
      labelNames: ['cicd_pipeline_run_state'],
      registers: [registry],
    }).set({ cicd_pipeline_run_state: 'executing' }, -1);
    new Counter({ name: 'process_cpu_seconds_total', help: 'p', registers: [registry] }).inc();
    const data = await registryToOtel(registry, 1_000, 2_500);
    expect(data.map((m) => m.descriptor.name)).toEqual([
      'maestro.task.run.duration',
      'maestro.task.retries',
      'cicd.pipeline.run.active',
    ]);
    const [hist, retries, active] = data as any[]; // eslint-disable-line @typescript-eslint/no-explicit-any -- shapes asserted below
    const a = hist.dataPoints.find((p: any) => p.attributes['cicd.pipeline.name'] === 'a'); // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(a.value).toEqual({ buckets: { boundaries: [1, 5], counts: [1, 1, 1] }, sum: 12.5, count: 3 });
    expect(a.attributes).toEqual({ 'cicd.pipeline.name': 'a' });
    expect(a.startTime).toEqual([1, 0]);
    expect(a.endTime).toEqual([2, 500_000_000]);
    expect(hist.dataPoints).toHaveLength(2);
    expect(retries.isMonotonic).toBe(true);
    expect(retries.dataPoints[0].value).toBe(2);
    expect(active.isMonotonic).toBe(false);
    expect(active.dataPoints[0]).toMatchObject({
      attributes: { 'cicd.pipeline.run.state': 'executing' },
      value: -1,
    });
  });
});
