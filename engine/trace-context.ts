/**
 * The run's trace, as tasks and backends see it: the attempt span is a child of the run span and
 * carries the CI/CD semantic conventions' attributes, and its W3C trace context is handed to the
 * task as `TRACEPARENT` (and `TRACESTATE` when there is one), so a task's own spans join the run's
 * trace on every runner (they all pass the request's env through).
 */
import {
  context,
  isSpanContextValid,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { createRequire } from 'node:module';
import type * as OtelCore from '@opentelemetry/core';
import type { AttemptOutcome } from '../core/index.ts';

// @opentelemetry/core (with the semantic conventions, ~40 modules) loads with the first valid
// trace context: a local run without tracing has none and never needs it (issue 18, memory).
// scripts/build-action.ts turns requireHere into require to bundle it.
const requireHere = createRequire(import.meta.url);
let propagatorOnce: OtelCore.W3CTraceContextPropagator | undefined;
const propagator = () =>
  (propagatorOnce ??= new (
    requireHere('@opentelemetry/core') as typeof OtelCore
  ).W3CTraceContextPropagator());

/** The conventions' attributes of a run span (`cicd.pipeline.*`). */
export function runSpanAttributes(runId: string, workflow: string): Attributes {
  return {
    'maestro.run.id': runId,
    'maestro.workflow': workflow,
    'cicd.pipeline.name': workflow,
    'cicd.pipeline.run.id': runId,
  };
}

export interface AttemptSpanIds {
  runId: string;
  workflow: string;
  taskId: string;
  attempt: number;
  attemptId: string;
  /** The console's base URL (EngineOptions.publicUrl), without a trailing slash. */
  publicUrl?: string | undefined;
}

/**
 * The console's page of a task's attempt (`cicd.pipeline.task.run.url.full`): the run's page with
 * the task and attempt as query parameters, under the operator's public URL.
 */
export function taskRunUrl(
  publicUrl: string,
  ids: Pick<AttemptSpanIds, 'runId' | 'taskId' | 'attempt'>,
): string {
  const query = new URLSearchParams({ task: ids.taskId, attempt: String(ids.attempt) });
  return `${publicUrl}/runs/${encodeURIComponent(ids.runId)}?${query}`;
}

/** Starts an attempt's span under the run's span (a root span when the run has none). */
export function startAttemptSpan(tracer: Tracer, parent: Span | undefined, ids: AttemptSpanIds): Span {
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  return tracer.startSpan(
    'maestro.attempt',
    {
      attributes: {
        'maestro.run.id': ids.runId,
        'maestro.task.id': ids.taskId,
        'maestro.attempt': ids.attempt,
        'cicd.pipeline.name': ids.workflow,
        'cicd.pipeline.run.id': ids.runId,
        'cicd.pipeline.task.name': ids.taskId,
        'cicd.pipeline.task.run.id': ids.attemptId,
        ...(ids.publicUrl ? { 'cicd.pipeline.task.run.url.full': taskRunUrl(ids.publicUrl, ids) } : {}),
      },
    },
    ctx,
  );
}

/**
 * A policy decision's span, a child of the run's (the decision comes before the attempt it
 * allows, so it is the attempt span's sibling, not its child).
 */
export function startPolicySpan(
  tracer: Tracer,
  parent: Span | undefined,
  ids: Omit<AttemptSpanIds, 'attemptId'>,
): Span {
  const ctx = parent ? trace.setSpan(context.active(), parent) : context.active();
  return tracer.startSpan(
    'maestro.policy.decision',
    {
      attributes: {
        'cicd.pipeline.name': ids.workflow,
        'cicd.pipeline.run.id': ids.runId,
        'cicd.pipeline.task.name': ids.taskId,
        'maestro.attempt': ids.attempt,
      },
    },
    ctx,
  );
}

/** The conventions' `cicd.pipeline.task.run.result` for an attempt's outcome. */
export function taskRunResult(outcome: AttemptOutcome): string {
  switch (outcome) {
    case 'succeeded':
      return 'success';
    case 'failed':
      return 'failure';
    case 'timed_out':
      return 'timeout';
    case 'cancelled':
      return 'cancellation';
    case 'runner_error':
      // The CI/CD system failed the attempt, not the task's code.
      return 'error';
  }
}

/**
 * `TRACEPARENT` (and `TRACESTATE`) for a task's environment: the span's context, serialized by
 * OpenTelemetry's W3C propagator. Empty when the span is not recording-capable (no valid ids),
 * so a task never sees an all-zero parent.
 */
export function traceEnv(span: Span): Record<string, string> {
  // The propagator writes nothing for invalid ids either; asked first, it need not be loaded.
  if (!isSpanContextValid(span.spanContext())) return {};
  const carrier: Record<string, string> = {};
  propagator().inject(trace.setSpan(context.active(), span), carrier, {
    set: (c, key, value) => (c[key] = value),
  });
  const env: Record<string, string> = {};
  if (carrier.traceparent) env.TRACEPARENT = carrier.traceparent;
  if (carrier.tracestate) env.TRACESTATE = carrier.tracestate;
  return env;
}

/**
 * The W3C `traceparent` of a span, for a run to store and continue (RunRecord.traceParent);
 * undefined when the span has no valid ids (tracing off and no caller's context).
 */
export function traceParentOf(span: Span | undefined): string | undefined {
  if (!span || !isSpanContextValid(span.spanContext())) return undefined;
  const carrier: Record<string, string> = {};
  propagator().inject(trace.setSpan(context.active(), span), carrier, {
    set: (c, key, value) => (c[key] = value),
  });
  return carrier.traceparent;
}

/**
 * The context a stored or received `traceparent` names, as a remote parent. The propagator
 * validates it (version, 32 + 16 lowercase hex, not all zero, flags): anything else, and a
 * missing one, is the active context unchanged, so a caller cannot inject text into a run's log
 * or a task's environment through it.
 */
export function contextOfTraceParent(traceParent: string | null | undefined): Context {
  if (typeof traceParent !== 'string') return context.active();
  return propagator().extract(
    context.active(),
    { traceparent: traceParent },
    {
      get: (c, key) => c[key],
      keys: (c) => Object.keys(c),
    },
  );
}

/**
 * A received `traceparent` as this process would write it (version 00, the ids and the sampled
 * flag only), or undefined when it is not a valid one: what a run stores is never the caller's
 * raw text (a later version may carry trailing fields the propagator accepts and drops).
 */
export function normalTraceParent(traceParent: string | null | undefined): string | undefined {
  const ids = trace.getSpanContext(contextOfTraceParent(traceParent));
  return ids && isSpanContextValid(ids) ? traceParentOf(trace.wrapSpanContext(ids)) : undefined;
}

/** The trace id a stored `traceparent` names, when it is a valid one (for API answers). */
export function traceIdOfParent(traceParent: string | null | undefined): string | undefined {
  const ids = trace.getSpanContext(contextOfTraceParent(traceParent));
  return ids && isSpanContextValid(ids) ? ids.traceId : undefined;
}

/** The span's trace id, for the run's log and the server's; undefined without real tracing. */
export function traceIdOf(span: Span | undefined): string | undefined {
  const ids = span?.spanContext();
  return ids && isSpanContextValid(ids) ? ids.traceId : undefined;
}
