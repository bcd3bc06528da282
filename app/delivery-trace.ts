/**
 * The trace of one webhook delivery's processing: `maestro.webhook.delivery` is the root, the
 * compile, gate and dispatch steps its children, and a run it dispatches stores the delivery
 * span's context (SubmitOptions.traceParent), so the run's spans, policy decisions and attempts
 * join the same trace wherever it executes. The current delivery's span is carried through
 * Probot's handlers by an AsyncLocalStorage (the runtime registers no global OpenTelemetry context
 * manager: each runtime holds its own tracer provider), so no handler passes it by hand.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  context,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { contextOfTraceParent, traceParentOf } from '../engine/index.ts';

interface Scope {
  tracer: Tracer;
  span: Span;
}

const current = new AsyncLocalStorage<Scope>();

async function within<T>(scope: Scope, work: () => Promise<T>): Promise<T> {
  try {
    return await current.run(scope, work);
  } catch (error) {
    scope.span.recordException(error as Error);
    scope.span.setStatus({ code: SpanStatusCode.ERROR });
    throw error;
  } finally {
    scope.span.end();
  }
}

/** Processes one stored delivery under its own span (a consumer: GitHub was answered before). */
export function traceDelivery<T>(
  tracer: Tracer,
  delivery: { id: string; name: string },
  work: () => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan('maestro.webhook.delivery', {
    kind: SpanKind.CONSUMER,
    attributes: { 'github.delivery': delivery.id, 'github.event': delivery.name },
  });
  return within({ tracer, span }, work);
}

/**
 * Fires one schedule slot under a root span of its own, `maestro.schedule.fire`: a scheduled run
 * has one trace, as a delivery's or an API call's run has (the compile and dispatch steps are its
 * children, and the run continues it). Linked to the scheduler pass (`schedules tick`) that fired
 * it, which is a trace of its own and may fire many slots.
 */
export function traceScheduledSlot<T>(
  tracer: Tracer,
  slot: { scope: string; workflow: string; slotMs: number; runId: string; tickTraceParent?: string },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const tick = trace.getSpanContext(contextOfTraceParent(slot.tickTraceParent));
  const span = tracer.startSpan('maestro.schedule.fire', {
    root: true,
    kind: SpanKind.INTERNAL,
    attributes: {
      'maestro.schedule.workflow': slot.workflow,
      'cicd.pipeline.run.id': slot.runId,
      'vcs.repository.name': slot.scope,
      'maestro.schedule.slot': new Date(slot.slotMs).toISOString(),
    },
    ...(tick && trace.isSpanContextValid(tick) ? { links: [{ context: tick }] } : {}),
  });
  return within({ tracer, span }, () => work(span));
}

/** A step of the current delivery as its child span; without a delivery (a resume), no span. */
export function deliveryStep<T>(
  name: string,
  attributes: Attributes,
  work: (span?: Span) => Promise<T>,
): Promise<T> {
  const parent = current.getStore();
  if (!parent) return work();
  const span = parent.tracer.startSpan(name, { attributes }, trace.setSpan(context.active(), parent.span));
  return within({ tracer: parent.tracer, span }, () => work(span));
}

/** The `traceparent` a run dispatched now continues: the current step's span, if any. */
export function deliveryTraceParent(): string | undefined {
  return traceParentOf(current.getStore()?.span);
}
