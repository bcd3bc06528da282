import { trace, TraceFlags, type Span } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import {
  contextOfTraceParent,
  normalTraceParent,
  startAttemptSpan,
  traceEnv,
  traceIdOfParent,
} from './trace-context.ts';

const exporter = new InMemorySpanExporter();
const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }).getTracer(
  't',
);
const ids = { runId: 'r1', workflow: 'wf', taskId: 'build', attempt: 2, attemptId: 'a-2' };

describe('trace context for tasks', () => {
  it('gives the attempt span, a child of the run span, as a W3C TRACEPARENT', () => {
    const run = tracer.startSpan('maestro.run');
    const attempt = startAttemptSpan(tracer, run, ids);
    const { traceId, spanId } = attempt.spanContext();
    expect(traceId).toBe(run.spanContext().traceId);
    expect(traceEnv(attempt)).toEqual({ TRACEPARENT: `00-${traceId}-${spanId}-01` });
    attempt.end();
    const ended = exporter.getFinishedSpans().at(-1)!;
    expect(ended.parentSpanContext?.spanId).toBe(run.spanContext().spanId);
    expect(ended.attributes['cicd.pipeline.task.name']).toBe('build');
    expect(ended.attributes['cicd.pipeline.task.run.id']).toBe('a-2');
    // No public URL: no URL to name.
    expect(ended.attributes).not.toHaveProperty('cicd.pipeline.task.run.url.full');
  });

  it("names the task's console page as cicd.pipeline.task.run.url.full under the public URL", () => {
    startAttemptSpan(tracer, undefined, {
      ...ids,
      runId: 'r 1/x',
      taskId: 'build&deploy',
      publicUrl: 'https://maestro.example.com/ci',
    }).end();
    expect(exporter.getFinishedSpans().at(-1)!.attributes['cicd.pipeline.task.run.url.full']).toBe(
      'https://maestro.example.com/ci/runs/r%201%2Fx?task=build%26deploy&attempt=2',
    );
  });

  it('carries a trace state along, and gives nothing for a span without valid ids', () => {
    const withState = trace.wrapSpanContext({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
      traceState: new TraceState('vendor=x'),
    });
    expect(traceEnv(withState)).toEqual({
      TRACEPARENT: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      TRACESTATE: 'vendor=x',
    });
    const invalid = trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 });
    expect(traceEnv(invalid as Span)).toEqual({});
  });
});

describe('a received traceparent', () => {
  const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('is continued: a span started under it is in its trace, its child', () => {
    const span = tracer.startSpan('maestro.run', {}, contextOfTraceParent(valid));
    expect(span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    span.end();
    expect(exporter.getFinishedSpans().at(-1)!.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(traceIdOfParent(valid)).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  // The attack: text a caller puts in the header must not reach a run's log or a task's
  // environment (TRACEPARENT). What is stored is rebuilt from the parsed ids, never the raw text.
  it('is stored only in the form this process writes, and not at all when it is invalid', () => {
    expect(normalTraceParent(valid)).toBe(valid);
    expect(normalTraceParent('cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-$(curl evil)')).toBe(
      valid,
    );
    for (const bad of [
      '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-$(curl evil)',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      'not a traceparent',
      '',
      undefined,
      null,
    ]) {
      expect(normalTraceParent(bad)).toBeUndefined();
      expect(traceIdOfParent(bad)).toBeUndefined();
    }
    // Not a child of anything: an invalid header starts a trace of its own.
    const span = tracer.startSpan('maestro.run', {}, contextOfTraceParent('nonsense'));
    span.end();
    expect(exporter.getFinishedSpans().at(-1)!.parentSpanContext).toBeUndefined();
  });
});
