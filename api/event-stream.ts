/**
 * GET /v1/events: every run's and task's state change as server-sent events, for the console's
 * live views (and any script). It reads the store's transition feed (a short poll, as the log
 * stream does), so an API replica without the worker role streams what other replicas' workers
 * do. Only the namespaces the caller may see are read, in the query itself: an event of another
 * namespace is never fetched, let alone sent. The credential is checked again while the stream
 * is open, so revoking a token (or ending its session) ends its streams.
 *
 * Without Last-Event-ID the stream starts at the store's current end, announced by a `ready`
 * event (its id is the position): a client that loads a list after `ready` misses nothing.
 */
import type { FastifyReply } from 'fastify';
import type { ApiBody } from '../core/index.ts';
import type { FeedTransition } from '../engine/index.ts';
import type { ApiContext } from './api-context.ts';
import { assertNamespace, type Caller } from './auth.ts';
import { ApiError } from './problem.ts';

const POLL_MS = 250;
const BATCH = 500;
const RECHECK_MS = 2_000;
const KEEPALIVE_MS = 15_000;

export interface EventStreamRequest {
  caller: Caller;
  query: ApiBody.EventQuery;
  lastEventId: string | string[] | undefined;
  /** Throws when the caller's credential is no longer good (revoked, expired, signed out). */
  recheck: () => Promise<unknown>;
}

function parsePosition(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || !/^[0-9]{1,15}$/.test(header))
    throw new ApiError(400, 'invalid_request', 'Last-Event-ID must be an event id this stream sent', {
      errors: [{ pointer: '/headers/last-event-id', message: 'expected digits' }],
    });
  return Number(header);
}

/** The namespaces to read: the one asked for (if the caller may), else the caller's (none: all). */
export function eventNamespaces(caller: Caller, namespace: string | undefined): string[] | undefined {
  if (namespace !== undefined) {
    assertNamespace(caller, namespace);
    return [namespace];
  }
  return caller.namespaces.length ? [...caller.namespaces] : undefined;
}

function stateEvent(t: FeedTransition): string {
  const data: ApiBody.StateEvent = {
    run: t.runId,
    workflow: t.workflow,
    namespace: t.namespace,
    task: t.taskId,
    from: t.from,
    to: t.to,
    reason: t.reason,
    by: t.by,
    time: new Date(t.time).toISOString(),
    detail: t.detail,
  };
  return `id: ${t.id}\nevent: ${t.taskId === null ? 'run' : 'task'}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Called after the caller was authenticated and authorised; answers on the raw response. */
export async function streamEvents(
  ctx: ApiContext,
  reply: FastifyReply,
  request: EventStreamRequest,
): Promise<void> {
  const namespaces = eventNamespaces(request.caller, request.query.namespace);
  const store = ctx.runtime.store;
  let after = parsePosition(request.lastEventId) ?? (await store.lastTransitionId());
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  raw.write(
    `id: ${after}\nevent: ready\ndata: ${JSON.stringify({ after } satisfies ApiBody.StreamReady)}\n\n`,
  );
  let open = true;
  let checkedAt = ctx.clock.now();
  let wroteAt = ctx.clock.now();
  raw.on('close', () => (open = false));
  const tick = async () => {
    if (!open) return;
    try {
      if (ctx.clock.now() - checkedAt >= RECHECK_MS) {
        checkedAt = ctx.clock.now();
        await request.recheck();
      }
      const batch = await store.listTransitionsAfter({
        afterId: after,
        limit: BATCH,
        ...(namespaces ? { namespaces } : {}),
      });
      for (const t of batch) {
        raw.write(stateEvent(t));
        after = t.id;
        wroteAt = ctx.clock.now();
      }
      // A comment line: proxies keep the connection, and a closed client is noticed.
      if (ctx.clock.now() - wroteAt >= KEEPALIVE_MS) {
        raw.write(': keep-alive\n\n');
        wroteAt = ctx.clock.now();
      }
      setTimeout(() => void tick(), batch.length === BATCH ? 0 : POLL_MS).unref();
    } catch (error) {
      if (!(error instanceof ApiError)) ctx.logger.error({ err: error }, 'event stream failed');
      else raw.write(`event: end\ndata: ${JSON.stringify({ reason: error.code })}\n\n`);
      raw.end();
    }
  };
  void tick();
}
