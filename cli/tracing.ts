/** The OpenTelemetry tracer for CLI runs, exporter chosen by MAESTRO_OTEL_EXPORTER (console|otlp|none). */
import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { otelExporterKind } from './config.ts';
import type { CliIo } from './io.ts';

export interface CliTracing {
  tracer: Tracer;
  shutdown(): Promise<void>;
}

export function createTracing(io: CliIo): CliTracing {
  const kind = otelExporterKind(io);
  if (kind === 'none') return { tracer: trace.getTracer('summit-maestro'), shutdown: async () => undefined };
  // The OTLP exporter reads the standard OTEL_EXPORTER_OTLP_* variables itself.
  const processor =
    kind === 'console'
      ? new SimpleSpanProcessor(new ConsoleSpanExporter())
      : new BatchSpanProcessor(new OTLPTraceExporter());
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  return { tracer: provider.getTracer('summit-maestro'), shutdown: () => provider.shutdown() };
}
