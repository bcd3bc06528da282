// The spans a reference task makes in-process (runTask): a tracer provider registered as the
// process's global one, which tasks/telemetry/span.ts uses when the task is given no OTLP
// endpoint, keeping every finished span in memory for the test to read.
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';

/** A W3C traceparent, as the engine hands an attempt's span to its task. */
export const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
export const PARENT_SPAN_ID = 'b7ad6b7169203331';
export const TRACEPARENT = `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`;

/** Registers the in-memory provider once per test file; `take()` returns and forgets the spans. */
export function recordTaskSpans(): { take(): ReadableSpan[] } {
  const exporter = new InMemorySpanExporter();
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
  );
  return {
    take() {
      const spans = exporter.getFinishedSpans();
      exporter.reset();
      return spans;
    },
  };
}

/** The one span of `task`'s tracer, checked to be a child of TRACEPARENT's span. */
export function childSpanOf(spans: ReadableSpan[], task: string): ReadableSpan {
  const mine = spans.filter((s) => s.instrumentationScope.name === `maestro-task-${task}`);
  if (mine.length !== 1) throw new Error(`expected one span of maestro-task-${task}, got ${mine.length}`);
  const span = mine[0]!;
  if (span.spanContext().traceId !== TRACE_ID || span.parentSpanContext?.spanId !== PARENT_SPAN_ID)
    throw new Error(`the ${task} span is not a child of TRACEPARENT's span`);
  return span;
}
