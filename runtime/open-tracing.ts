/** The OpenTelemetry tracer for a runtime, exporter chosen by the configuration (console|otlp|none). */
import { trace, type Tracer } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { TraceExporter } from './runtime-config.ts';

export interface Tracing {
  tracer: Tracer;
  /** The process's resource (service.name, …), shared by its metrics export; one per process. */
  resource(): Promise<Resource>;
  shutdown(): Promise<void>;
}

export async function openTracing(exporter: TraceExporter): Promise<Tracing> {
  // The SDK and the resource (with the semantic conventions: ~100 modules) load only when a span
  // is exported or metrics are: a local run's tracer is the API's no-op one (issue 18, memory).
  let resource: Promise<Resource> | undefined;
  const resourceOnce = () =>
    (resource ??= import('./otel-resource.ts').then(({ otelResource }) => otelResource()));
  if (exporter === 'none')
    return {
      tracer: trace.getTracer('summit-maestro'),
      resource: resourceOnce,
      shutdown: async () => undefined,
    };
  const { BasicTracerProvider, BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor } =
    await import('@opentelemetry/sdk-trace-base');
  // The OTLP exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself (its documented
  // configuration; the surface's environment is the process's here). It is loaded only when asked
  // for: with its transformer and the metrics SDK it is ~110 modules a local run does not need.
  const processor =
    exporter === 'console'
      ? new SimpleSpanProcessor(new ConsoleSpanExporter())
      : new BatchSpanProcessor(
          new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(),
        );
  const provider = new BasicTracerProvider({ resource: await resourceOnce(), spanProcessors: [processor] });
  return {
    tracer: provider.getTracer('summit-maestro'),
    resource: resourceOnce,
    shutdown: () => provider.shutdown(),
  };
}
