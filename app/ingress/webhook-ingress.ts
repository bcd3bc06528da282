import type { IncomingMessage, ServerResponse } from 'node:http';
import { trace, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import {
  DEFAULT_DELIVERY_RETENTION_DAYS,
  type DeliveryStore,
  type StoredDelivery,
} from './delivery-store.ts';
import { createGarbageNudge } from './collect-garbage.ts';
import { isStalePush } from './freshness.ts';
import { BodyNotReceivedError, receiveBody, type ReceivedBody } from './receive-body.ts';
import { refuse, Refusal, replyJson } from './refusals.ts';
import { parseSignatureHeader, signatureMatches } from './signature.ts';
import { Spool } from './spool.ts';

/** The bounds ingress keeps; every one fails closed. */
export interface IngressLimits {
  /** GitHub caps payloads at 25 MB; anything larger is not from GitHub. */
  maxBodyBytes: number;
  /** Per body; the rest goes to a spool file under the data dir. */
  memoryBytes: number;
  /** From the request's arrival to the last byte of its body (at most 30 s in production). */
  bodyTimeoutMs: number;
  /** Bodies being received and not yet verified, at once; the next is answered 503. */
  maxUnverified: number;
  /** `Retry-After` of that 503, in seconds. */
  retryAfterSeconds: number;
  /** Finished deliveries (ids and body digests) are pruned after this many days. */
  retentionDays: number;
  /**
   * How long a stored delivery stays claimed by the process that stored it (renewed while it is
   * processed); past it, another replica on the same database takes it over.
   */
  claimMs: number;
}

export const DEFAULT_INGRESS_LIMITS: IngressLimits = {
  maxBodyBytes: 25 * 1024 * 1024,
  memoryBytes: 256 * 1024,
  bodyTimeoutMs: 30_000,
  maxUnverified: 16,
  retryAfterSeconds: 5,
  retentionDays: DEFAULT_DELIVERY_RETENTION_DAYS,
  claimMs: 120_000,
};

const PRUNE_EVERY_MS = 60 * 60 * 1000;
const DAY_MS = 86_400_000;
const COLLECT_EVERY_BYTES = 1024 * 1024;
const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const EVENT_NAME = /^[a-z_]{1,64}$/;

export interface WebhookIngressOptions {
  secret: string;
  /** The receipt of each request is a span of it (default: the global tracer). */
  tracer?: Tracer;
  deliveries: DeliveryStore;
  /** Directory for spooled bodies (created 0700; emptied on start). */
  spoolDir: string;
  /** Called after a new delivery was stored and answered 202 (the queue's enqueue). */
  accept: (delivery: StoredDelivery, payload: unknown) => void;
  clock: () => number;
  logger: Logger;
  limits?: Partial<IngressLimits>;
}

/**
 * The webhook endpoint as one framework-free Node request handler. It owns the path a delivery
 * takes from the socket to the store: refuse what is not signed before reading the body; bound
 * the body's size, its time to arrive and how many unverified bodies are read at once; hash it as
 * it streams and keep at most `memoryBytes` of it in memory; verify; store (deduplicated by
 * delivery id and by the body's SHA-256); answer; hand it on.
 *
 * Mounting: `http.createServer(ingress.handle)` (see http-server.ts, which adds the health
 * endpoints), or in Fastify a route whose body Fastify must not parse, handed the raw objects:
 *
 * ```ts
 * fastify.register(async (scope) => {
 *   scope.removeAllContentTypeParsers();
 *   scope.addContentTypeParser('*', (_request, _payload, done) => done(null)); // leave the stream unread
 *   scope.post(webhookPath, (request, reply) => {
 *     reply.hijack();
 *     ingress.handle(request.raw, reply.raw);
 *   });
 * });
 * fastify.addHook('onClose', () => ingress.close());
 * ```
 */
export interface WebhookIngress {
  readonly handle: (request: IncomingMessage, response: ServerResponse) => void;
  /** Bodies being received and not yet verified. */
  readonly unverified: number;
  /** Refuses new deliveries, cuts off bodies still arriving (their spool files deleted), stops pruning. */
  close(): Promise<void>;
}

export function createWebhookIngress(options: WebhookIngressOptions): WebhookIngress {
  const limits = { ...DEFAULT_INGRESS_LIMITS, ...options.limits };
  const spool = new Spool(options.spoolDir);
  const tracer = options.tracer ?? trace.getTracer('maestro-app');
  const receiving = new Set<AbortController>();
  const running = new Set<Promise<void>>();
  let closing = false;
  const prune = async () => {
    try {
      const removed = await options.deliveries.pruneDeliveries(
        options.clock() - limits.retentionDays * DAY_MS,
      );
      if (removed > 0)
        options.logger.info({ removed, retentionDays: limits.retentionDays }, 'deliveries pruned');
    } catch (error) {
      // The database is unreachable for longer than a restart: the next round prunes.
      options.logger.warn({ err: error }, 'pruning deliveries failed');
    }
  };
  void prune();
  const pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
  pruneTimer.unref();

  const context: RequestContext = {
    options,
    limits,
    spool,
    receiving,
    onBytes: createGarbageNudge(COLLECT_EVERY_BYTES),
    isClosing: () => closing,
  };
  return {
    handle: (request, response) => {
      const span = tracer.startSpan('webhook ingress');
      const done = serve(context, request, response, span)
        .catch((error: unknown) => {
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR });
          options.logger.warn({ err: error }, 'webhook request failed');
          if (!response.headersSent) replyJson(response, 500, { error: 'internal error', code: 'internal' });
          else response.destroy();
        })
        .finally(() => {
          span.end();
          running.delete(done);
        });
      running.add(done);
    },
    get unverified() {
      return receiving.size;
    },
    close: async () => {
      closing = true;
      clearInterval(pruneTimer);
      for (const controller of receiving) controller.abort();
      await Promise.all([...running]);
    },
  };
}

interface RequestContext {
  options: WebhookIngressOptions;
  limits: IngressLimits;
  spool: Spool;
  receiving: Set<AbortController>;
  onBytes: (bytes: number) => void;
  isClosing: () => boolean;
}

function header(request: IncomingMessage, name: string, pattern: RegExp): string | undefined {
  const value = request.headers[name];
  return typeof value === 'string' && pattern.test(value) ? value : undefined;
}

/** Everything that can be decided from the headers alone, before a byte of the body is read. */
function checkHeaders(
  context: RequestContext,
  request: IncomingMessage,
): Refusal | { signature: Buffer; id: string; name: string } {
  if (context.isClosing()) return Refusal.closing;
  if (request.method !== 'POST') return Refusal.notPost;
  const signature = parseSignatureHeader(request.headers['x-hub-signature-256']);
  if ('problem' in signature)
    return signature.problem === 'missing' ? Refusal.signatureMissing : Refusal.signatureMalformed;
  const id = header(request, 'x-github-delivery', DELIVERY_ID);
  const name = header(request, 'x-github-event', EVENT_NAME);
  if (!id || !name) return Refusal.headersMissing;
  const length = Number(request.headers['content-length'] ?? 0);
  if (length > context.limits.maxBodyBytes) return Refusal.tooLarge;
  if (context.receiving.size >= context.limits.maxUnverified) return Refusal.busy;
  return { signature: signature.digest, id, name };
}

async function serve(
  context: RequestContext,
  request: IncomingMessage,
  response: ServerResponse,
  span: Span,
): Promise<void> {
  const { options } = context;
  const checked = checkHeaders(context, request);
  if ('code' in checked) return refuseLogged(context, request, response, span, checked);
  span.setAttributes({ 'github.delivery': checked.id, 'github.event': checked.name });
  const received = await receiveWithin(context, request);
  if (!received) return void response.destroy(); // the client went away: nobody to answer
  if ('code' in received) return refuseLogged(context, request, response, span, received, checked);
  span.setAttribute('http.request.body.size', received.size);
  if (!signatureMatches(checked.signature, received.hmac)) {
    await received.discard();
    return refuseLogged(context, request, response, span, Refusal.signatureMismatch, checked);
  }
  const parsed = parseBody(await received.read());
  if (!parsed) return refuseLogged(context, request, response, span, Refusal.notJson, checked);
  const now = options.clock();
  if (isStalePush(checked.name, parsed.payload, now, context.limits.retentionDays * DAY_MS))
    return refuseLogged(context, request, response, span, Refusal.stalePush, checked);
  const delivery = { id: checked.id, name: checked.name, payload: parsed.text, receivedAt: now };
  // Stored claimed by this process (it processes what it answered 202); another replica takes
  // it over only if this one stops before finishing it.
  const outcome = await options.deliveries.recordDelivery({
    ...delivery,
    bodyDigest: received.digest,
    claimedUntil: now + context.limits.claimMs,
  });
  span.setAttribute('maestro.ingress.outcome', outcome);
  if (outcome !== 'recorded') {
    // A redelivery (same id) is GitHub's retry; the same bytes under a new id is a replay.
    options.logger[outcome === 'duplicate_body' ? 'warn' : 'info'](
      { delivery: delivery.id, event: delivery.name, outcome, digest: received.digest },
      outcome === 'duplicate_body' ? 'webhook replay refused' : 'webhook redelivery ignored',
    );
    return replyJson(response, 200, { status: 'duplicate', id: delivery.id });
  }
  replyJson(response, 202, { status: 'accepted', id: delivery.id });
  options.accept(delivery, parsed.payload);
}

/**
 * Reads the body under the deadline and the unverified cap; a refusal when it was cut off
 * (too large, too slow, the spool failed), undefined when the client went away.
 */
async function receiveWithin(
  context: RequestContext,
  request: IncomingMessage,
): Promise<ReceivedBody | Refusal | undefined> {
  const { limits } = context;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, limits.bodyTimeoutMs);
  context.receiving.add(controller);
  try {
    return await receiveBody(request, {
      secret: context.options.secret,
      maxBytes: limits.maxBodyBytes,
      memoryBytes: limits.memoryBytes,
      spool: context.spool,
      signal: controller.signal,
      onBytes: context.onBytes,
    });
  } catch (error) {
    if (!(error instanceof BodyNotReceivedError)) throw error;
    if (error.reason === 'too_large') return Refusal.tooLarge;
    if (error.reason === 'spool_failed') return Refusal.spoolFailed;
    if (error.reason === 'aborted') return timedOut ? Refusal.timeout : Refusal.closing;
    return undefined;
  } finally {
    clearTimeout(timer);
    context.receiving.delete(controller);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The exact text of the body (so its stored form hashes to the same digest) and its JSON. */
function parseBody(bytes: Buffer): { text: string; payload: unknown } | undefined {
  try {
    const text = utf8.decode(bytes);
    return { text, payload: JSON.parse(text) as unknown };
  } catch {
    return undefined;
  }
}

function refuseLogged(
  context: RequestContext,
  request: IncomingMessage,
  response: ServerResponse,
  span: Span,
  refusal: Refusal,
  delivery?: { id: string; name: string },
): void {
  span.setAttribute('maestro.ingress.outcome', refusal.code);
  context.options.logger.warn(
    { code: refusal.code, status: refusal.status, delivery: delivery?.id, event: delivery?.name },
    'webhook refused',
  );
  const retry: Record<string, string> =
    refusal === Refusal.busy ? { 'retry-after': String(context.limits.retryAfterSeconds) } : {};
  refuse(request, response, refusal, retry);
}
