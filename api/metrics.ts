/**
 * The server's Prometheus metrics (prom-client): request duration by route template, method and
 * status, requests in flight, and the process metrics prom-client collects (CPU, memory, event
 * loop, GC, handles). One registry per server, not prom-client's global one, so two servers in
 * one process (the tests) do not share or clash.
 *
 * Labels hold the route *template* (`/v1/runs/{id}`, as in openapi.json), never the URL: a path
 * segment or query can carry a token or a secret a client pasted by mistake, and a URL per label
 * value would also let any client grow the registry without bound. Requests that match no route
 * are one label value, `unmatched`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Histogram, Gauge, Registry } from 'prom-client';
import { openApiPath } from './openapi.ts';

export interface ServerMetrics {
  registry: Registry;
  /** The exposition text and its media type, for GET /metrics. */
  scrape(): Promise<{ contentType: string; text: string }>;
}

const UNMATCHED = 'unmatched';

/** The route a request matched, in the OpenAPI document's form; `unmatched` for a 404. */
export function routeLabel(request: FastifyRequest): string {
  const url = request.routeOptions.url;
  return url === undefined ? UNMATCHED : openApiPath(url);
}

export async function createServerMetrics(): Promise<ServerMetrics> {
  // Loaded here, like Fastify: only a server needs it (api/ is imported by every command).
  const client = await import('prom-client');
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  return {
    registry,
    scrape: async () => ({ contentType: registry.contentType, text: await registry.metrics() }),
  };
}

/** Counts every request of `fastify`: in flight from its start, then its duration once it is closed. */
export async function instrumentRequests(fastify: FastifyInstance, metrics: ServerMetrics): Promise<void> {
  const client = await import('prom-client');
  const duration: Histogram<'route' | 'method' | 'status'> = new client.Histogram({
    name: 'maestro_http_request_duration_seconds',
    help: 'HTTP requests to maestro server by route template, method and status, in seconds',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [metrics.registry],
  });
  const inFlight: Gauge<'route' | 'method'> = new client.Gauge({
    name: 'maestro_http_requests_in_flight',
    help: 'HTTP requests to maestro server being handled now, by route template and method',
    labelNames: ['route', 'method'],
    registers: [metrics.registry],
  });
  fastify.addHook('onRequest', async (request, reply) => {
    const labels = { route: routeLabel(request), method: request.method };
    inFlight.inc(labels);
    const stop = duration.startTimer(labels);
    // `close` fires for every response, finished or aborted, and for hijacked ones (the webhook
    // route, server-sent events), where Fastify's onResponse hook does not always run.
    reply.raw.once('close', () => {
      inFlight.dec(labels);
      stop({ status: String(reply.raw.statusCode) });
    });
  });
}
