/**
 * OTLP export of the server's metrics, when OTEL_EXPORTER_OTLP_ENDPOINT (or its metrics variant)
 * is set: the OpenTelemetry metrics SDK's periodic reader and its OTLP/HTTP exporter (which read
 * the standard OTEL_EXPORTER_OTLP_* variables: endpoint, headers, protocol, timeout, TLS) send
 * the same registry `GET /metrics` serves, under the OpenTelemetry names and attributes of
 * docs/observability.md's mapping, with the runtime's resource (`service.name`, …).
 *
 * Why a hand-written bridge: the registry is prom-client's (one source of truth for both
 * outputs, so /metrics and OTLP never disagree), and no maintained library turns a prom-client
 * registry into OpenTelemetry metric data. The SDK's `MetricProducer` port is the documented seam
 * for such a source; everything on the wire (encoding, retries, headers) stays the exporter's.
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { MetricData, MetricProducer, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { Logger } from 'pino';
import type { MetricObjectWithValues, MetricValue, Registry } from 'prom-client';

/** Only Maestro's and the CI/CD conventions' metrics go out: the Node process metrics have their own semconv. */
const EXPORTED = /^(cicd|maestro)_/;

// Numbers, not the SDK's enums: `import type` keeps the SDK out of every command's start (as Fastify).
const SUM = 3;
const HISTOGRAM = 0;
const CUMULATIVE = 1;

/** `cicd_pipeline_run_duration_seconds` → `cicd.pipeline.run.duration` (unit `s`): the exporter's naming, reversed. */
export function otelName(promName: string, type: string): { name: string; unit: string } {
  let base = type === 'counter' ? promName.replace(/_total$/, '') : promName;
  let unit = '';
  if (base.endsWith('_seconds')) {
    base = base.slice(0, -'_seconds'.length);
    unit = 's';
  }
  // `in_flight` is one word in Maestro's own HTTP gauge.
  return { name: base.replace(/_in_flight$/, '.in_flight').replace(/_(?!flight$)/g, '.'), unit };
}

/** Prometheus label → OpenTelemetry attribute: `cicd_pipeline_name` → `cicd.pipeline.name`. */
function attributesOf(labels: MetricValue<string>['labels'], drop?: string): Attributes {
  const out: Attributes = {};
  for (const [key, value] of Object.entries(labels)) {
    if (key === drop || value === undefined) continue;
    out[key.replace(/_/g, '.')] = value;
  }
  return out;
}

function hrTime(ms: number): HrTime {
  return [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];
}

const seriesKey = (labels: MetricValue<string>['labels']) =>
  JSON.stringify(
    Object.entries(labels)
      .filter(([k]) => k !== 'le')
      .sort(([a], [b]) => a.localeCompare(b)),
  );

/** prom-client's cumulative `_bucket`/`_sum`/`_count` series → OpenTelemetry histogram points (per-bucket counts). */
function histogramPoints(metric: MetricObjectWithValues<MetricValue<string>>, start: HrTime, end: HrTime) {
  const series = new Map<
    string,
    { labels: MetricValue<string>['labels']; les: [number, number][]; sum: number; count: number }
  >();
  for (const v of metric.values) {
    const key = seriesKey(v.labels);
    const s = series.get(key) ?? { labels: v.labels, les: [], sum: 0, count: 0 };
    series.set(key, s);
    const suffix = (v as { metricName?: string }).metricName?.slice(metric.name.length);
    if (suffix === '_bucket') s.les.push([v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), v.value]);
    else if (suffix === '_sum') s.sum = v.value;
    else if (suffix === '_count') s.count = v.value;
  }
  return [...series.values()].map((s) => {
    const les = s.les.sort((a, b) => a[0] - b[0]);
    const boundaries = les.filter(([le]) => le !== Infinity).map(([le]) => le);
    const counts = les.map(([, c], i) => c - (i ? les[i - 1]![1] : 0));
    return {
      startTime: start,
      endTime: end,
      attributes: attributesOf(s.labels, 'le'),
      value: { buckets: { boundaries, counts }, sum: s.sum, count: s.count },
    };
  });
}

/** The registry's metrics as OpenTelemetry metric data: counters and histograms cumulative since `startMs`. */
export async function registryToOtel(
  registry: Registry,
  startMs: number,
  nowMs: number,
): Promise<MetricData[]> {
  const start = hrTime(startMs);
  const end = hrTime(nowMs);
  const out: MetricData[] = [];
  for (const metric of await registry.getMetricsAsJSON()) {
    if (!EXPORTED.test(metric.name)) continue;
    // prom-client's types say an enum; the value is the type's name (`counter`, …).
    const type = metric.type as unknown as string;
    const { name, unit } = otelName(metric.name, type);
    const descriptor = { name, description: metric.help, unit, valueType: ValueType.DOUBLE };
    const m = metric as MetricObjectWithValues<MetricValue<string>>;
    if (type === 'histogram')
      out.push({
        descriptor,
        aggregationTemporality: CUMULATIVE,
        dataPointType: HISTOGRAM,
        dataPoints: histogramPoints(m, start, end),
      } as MetricData);
    else if (type === 'counter' || type === 'gauge')
      // Every Maestro gauge is an up-down counter in the conventions (active runs, workers).
      out.push({
        descriptor,
        aggregationTemporality: CUMULATIVE,
        dataPointType: SUM,
        isMonotonic: type === 'counter',
        dataPoints: m.values.map((v) => ({
          startTime: start,
          endTime: end,
          attributes: attributesOf(v.labels),
          value: v.value,
        })),
      } as MetricData);
  }
  return out;
}

export interface OtlpMetrics {
  /** Exports once more, then stops. */
  shutdown(): Promise<void>;
}

export async function startOtlpMetrics(options: {
  registry: Registry;
  resource: Resource;
  intervalMs: number;
  timeoutMs: number;
  logger: Logger;
  now?: () => number;
}): Promise<OtlpMetrics> {
  const { MeterProvider, PeriodicExportingMetricReader } = await import('@opentelemetry/sdk-metrics');
  const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
  const now = options.now ?? Date.now;
  const startMs = now();
  const producer: MetricProducer = {
    async collect() {
      const scope: ScopeMetrics = {
        scope: { name: 'summit-maestro' },
        metrics: await registryToOtel(options.registry, startMs, now()),
      };
      return { resourceMetrics: { resource: options.resource, scopeMetrics: [scope] }, errors: [] };
    },
  };
  const reader = new PeriodicExportingMetricReader({
    exporter: new OTLPMetricExporter(),
    exportIntervalMillis: options.intervalMs,
    exportTimeoutMillis: Math.min(options.timeoutMs, options.intervalMs),
    metricProducers: [producer],
  });
  const provider = new MeterProvider({ resource: options.resource, readers: [reader] });
  options.logger.info({ intervalMs: options.intervalMs }, 'metrics: exporting over OTLP');
  return {
    shutdown: () =>
      provider.shutdown().catch((error: unknown) => {
        options.logger.warn({ err: error }, 'metrics: the last OTLP export failed');
      }),
  };
}
