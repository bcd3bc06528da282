/**
 * GET /v1/runs/{id}/logs as server-sent events: every stored line after `Last-Event-ID` (the
 * line id), then, with `follow=true`, new lines as the run writes them until it is terminal, then
 * an `end` event. The same URL serves live and finished runs. Lines are read from the store by a
 * short poll (the store has no change feed yet), so an API process without the worker role, or
 * another replica, streams the same lines.
 */
import type { FastifyReply } from 'fastify';
import { isTerminalRunState, type ApiBody } from '../core/index.ts';
import type { StoredLogLine } from '../engine/index.ts';
import type { ApiContext } from './api-context.ts';
import { ApiError } from './problem.ts';

const POLL_MS = 200;

function parseLastEventId(header: string | string[] | undefined): number {
  if (header === undefined) return 0;
  if (typeof header !== 'string' || !/^[0-9]{1,15}$/.test(header))
    throw new ApiError(400, 'invalid_request', 'Last-Event-ID must be a line id this stream sent', {
      errors: [{ pointer: '/headers/last-event-id', message: 'expected digits' }],
    });
  return Number(header);
}

function event(name: string, data: unknown, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

function logEvent(line: StoredLogLine & { id: number }): string {
  const data: ApiBody.LogEvent = {
    task: line.taskId,
    attempt: line.attempt,
    stream: line.stream,
    text: line.text,
    time: new Date(line.time).toISOString(),
  };
  return event('log', data, line.id);
}

export interface LogStreamRequest {
  runId: string;
  query: ApiBody.LogQuery;
  lastEventId: string | string[] | undefined;
  /**
   * Throws when the caller's credential is no longer good: a followed log of a long run is
   * closed (an EventSource then reconnects and gets the 401) once its token is revoked.
   */
  recheck?: () => Promise<unknown>;
}

const RECHECK_MS = 2_000;

/** Called after the caller and the run were checked; answers on the raw response. */
export function streamLogs(ctx: ApiContext, reply: FastifyReply, request: LogStreamRequest): void {
  let after = parseLastEventId(request.lastEventId);
  const store = ctx.runtime.store;
  const wanted = (line: StoredLogLine) =>
    request.query.attempt === undefined || line.attempt === request.query.attempt;
  reply.hijack();
  const raw = reply.raw;
  raw.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  let open = true;
  let checkedAt = ctx.clock.now();
  raw.on('close', () => (open = false));
  const flush = async () => {
    for (const line of await store.listLogs(request.runId, request.query.task, after)) {
      after = line.id;
      if (wanted(line)) raw.write(logEvent(line));
    }
  };
  const tick = async () => {
    if (!open) return;
    try {
      if (request.recheck && ctx.clock.now() - checkedAt >= RECHECK_MS) {
        checkedAt = ctx.clock.now();
        try {
          await request.recheck();
        } catch {
          raw.end();
          return;
        }
      }
      // Terminal first, then the lines: a line written just before the end is not missed.
      const { status } = await store.getRun(request.runId);
      const done = isTerminalRunState(status);
      await flush();
      if (done || !request.query.follow) {
        if (done) raw.write(event('end', { status } satisfies ApiBody.LogEnd));
        raw.end();
        return;
      }
      setTimeout(() => void tick(), POLL_MS).unref();
    } catch (error) {
      ctx.logger.error({ err: error, runId: request.runId }, 'log stream failed');
      raw.end();
    }
  };
  void tick();
}
