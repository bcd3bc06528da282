/** The OpenTelemetry tracer for a runtime, exporter chosen by the configuration (console|otlp|none). */
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
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

export function openTracing(exporter: TraceExporter): Tracing {
  const resource = otelResource();
  if (exporter === 'none')
    return { tracer: trace.getTracer('summit-maestro'), resource, shutdown: async () => undefined };
  // The OTLP exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself (its documented
  // configuration; the surface's environment is the process's here).
  const processor =
    exporter === 'console'
      ? new SimpleSpanProcessor(new ConsoleSpanExporter())
      : new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  return { tracer: provider.getTracer('summit-maestro'), resource, shutdown: () => provider.shutdown() };
}
