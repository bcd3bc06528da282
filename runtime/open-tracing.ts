/** The OpenTelemetry tracer for a runtime, exporter chosen by the configuration (console|otlp|none). */
import { trace, type Tracer } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Resource } from '@opentelemetry/resources';
import { otelResource } from './otel-resource.ts';
import type { TraceExporter } from './runtime-config.ts';

export interface Tracing {
  tracer: Tracer;
  /** The process's resource (service.name, …), shared by its metrics export. */
  resource: Resource;
  shutdown(): Promise<void>;
}

export async function openTracing(exporter: TraceExporter): Promise<Tracing> {
  const resource = otelResource();
  if (exporter === 'none')
    return { tracer: trace.getTracer('summit-maestro'), resource, shutdown: async () => undefined };
  // The OTLP exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself (its documented
  // configuration; the surface's environment is the process's here). It is loaded only when asked
  // for: with its transformer and the metrics SDK it is ~110 modules a local run does not need.
  const processor =
    exporter === 'console'
      ? new SimpleSpanProcessor(new ConsoleSpanExporter())
      : new BatchSpanProcessor(
          new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter(),
        );
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  return { tracer: provider.getTracer('summit-maestro'), resource, shutdown: () => provider.shutdown() };
}
