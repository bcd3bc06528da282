/**
 * One server span per API request, continuing the caller's W3C `traceparent` header: a run
 * started by the request stores that span's context (RunRecord.traceParent), so the caller's
 * trace goes on through whichever worker executes the run. Written as one hook rather than
 * @opentelemetry/instrumentation-fastify: that instruments by patching modules at load time
 * (a registered global provider and require hooks), while the runtime here holds its own
 * provider and Fastify is imported lazily.
 */
import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contextOfTraceParent, traceParentOf } from '../engine/index.ts';

const spans = new WeakMap<FastifyRequest, Span>();

/** The route template (never the path: ids would make every span name distinct). */
function routeName(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

export function traceRequests(fastify: FastifyInstance, tracer: Tracer): void {
  fastify.addHook('onRequest', async (request, reply) => {
    const header = request.headers.traceparent;
    // A repeated header is ambiguous: the request starts a trace of its own.
    const parent = contextOfTraceParent(typeof header === 'string' ? header : undefined);
    const route = routeName(request);
    const span = tracer.startSpan(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'http.route': route },
      },
      parent,
    );
    spans.set(request, span);
    // `close` fires for every response, aborted and hijacked ones too (as instrumentRequests).
    reply.raw.once('close', () => {
      const status = reply.raw.statusCode;
      span.setAttribute('http.response.status_code', status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
  });
}

/**
 * The `traceparent` a run started by this request continues: the request's span, or the
 * caller's own context when tracing is off here (the span is then the caller's, not recording).
 */
export function requestTraceParent(request: FastifyRequest): string | undefined {
  return traceParentOf(spans.get(request));
}
