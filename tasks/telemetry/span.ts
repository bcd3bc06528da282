// The OpenTelemetry span of one reference task's work (tasks/grpc, tasks/kafka, tasks/notify).
// Its parent is the attempt's span, handed in as TRACEPARENT (docs/task-protocol.md), so the
// task's span joins the run's trace. Where it goes: to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (or
// OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces) when the manifest passes one in env: (a provider of
// the task's own, flushed before the task ends, since the process exits right after); else to
// the process's global tracer provider (a no-op in a task process; the one a test registers).
// The environment is read through ctx.secret, the SDK's one accessor of the task's environment
// (runTask's `secrets` in a test), never from process.env.
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { secretIfGiven, type TaskContext } from '../../sdk/index.ts';

const propagator = new W3CTraceContextPropagator();

export interface TaskSpanOptions {
  /** The task's name: the tracer's name is `maestro-task-<task>`. */
  task: string;
  kind?: SpanKind;
  attributes: Attributes;
}

/**
 * Runs `work` inside a span named `name`, a child of TRACEPARENT's span when there is one. A
 * thrown error ends the span with status ERROR and the error's `code` as `error.type` (the
 * message may quote the peer's answer, so it is not recorded); the error is rethrown.
 */
export async function inTaskSpan<T>(
  ctx: Pick<TaskContext, 'secret'>,
  name: string,
  options: TaskSpanOptions,
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const exporting = await ownProvider(ctx);
  const tracer: Tracer = (exporting?.provider ?? trace).getTracer(`maestro-task-${options.task}`);
  const parent = parentContext(ctx);
  const span = tracer.startSpan(
    name,
    { kind: options.kind ?? SpanKind.CLIENT, attributes: options.attributes },
    parent,
  );
  try {
    const result = await work(span);
    span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    span.setAttribute('error.type', typeof code === 'string' ? code : (error as Error).name);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    span.end();
    // Exporting must not fail the task's work (or hang it): a collector that is down loses the span.
    await exporting?.provider.shutdown().catch(() => undefined);
  }
}

function parentContext(ctx: Pick<TaskContext, 'secret'>) {
  const traceparent = secretIfGiven(ctx, 'TRACEPARENT');
  if (!traceparent) return ROOT_CONTEXT;
  const carrier: Record<string, string> = { traceparent };
  const tracestate = secretIfGiven(ctx, 'TRACESTATE');
  if (tracestate) carrier.tracestate = tracestate;
  return propagator.extract(ROOT_CONTEXT, carrier, {
    get: (c, key) => c[key],
    keys: (c) => Object.keys(c),
  });
}

async function ownProvider(ctx: Pick<TaskContext, 'secret'>) {
  const traces = secretIfGiven(ctx, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const base = secretIfGiven(ctx, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  const url = traces ?? (base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (!url) return undefined;
  // Loaded only when asked for: most task runs export nothing and need none of it.
  const [{ BasicTracerProvider, SimpleSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'maestro-task' }),
    spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url }))],
  });
  return { provider };
}
