/**
 * The API server: Fastify with the routes of route-table.ts, each behind its token scope, its
 * requests validated against schemas/api (unknown fields are a 400 naming them), every error a
 * problem+json with a stable code, bodies bounded (5 MB by default, 413 beyond). With a webhook
 * ingress (the `app` role) the GitHub App's handler is mounted unchanged on its own path.
 */
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebhookIngress } from '../app/index.ts';
import type { ApiBody } from '../core/index.ts';
import type { ApiContext } from './api-context.ts';
import { listRunDecisions } from './decision-routes.ts';
import { getRunGraph } from './graph-routes.ts';
import { requestTraceParent, traceRequests } from './request-tracing.ts';
import { triggerRunbook, type RunbookRef, type TriggerBody } from './runbook-routes.ts';
import { DISCLOSURE_MEDIA, getDisclosure } from './disclosure-routes.ts';
import { approveRun } from './approval-routes.ts';
import { approveTaskOfRun } from './task-approval-routes.ts';
import { listVerificationKeys } from './key-routes.ts';
import { querySbom } from './sbom-routes.ts';
import { getBudget, getUsage, listBudgets, putBudget } from './budget-routes.ts';
import { createApiAjv, definitionRef, describeErrors, type ValidateFunction } from './api-schemas.ts';
import { authorize, callerOf, setCaller, type Caller } from './auth.ts';
import { streamEvents } from './event-stream.ts';
import { startControlPlaneMetrics, type ControlPlaneMetrics } from './control-plane-metrics.ts';
import { createServerMetrics, instrumentRequests, type ServerMetrics } from './metrics.ts';
import { buildOpenApi } from './openapi.ts';
import { startOtlpMetrics } from './otlp-metrics.ts';
import { startPipelineMetrics } from './pipeline-metrics.ts';
import { recoverySeconds } from './recovery-time.ts';
import { ApiError, sendProblem, toProblem } from './problem.ts';
import { readiness } from './readiness.ts';
import { ROUTES, type RouteSpec } from './route-table.ts';
import { streamLogs } from './log-stream.ts';
import { authenticateRequest } from './session.ts';
import { createSession, deleteSession, getSession } from './session-routes.ts';
import {
  cancelRun,
  createRun,
  findRun,
  getRun,
  listReceipts,
  listRuns,
  listTransitions,
  retryRun,
} from './run-routes.ts';
import type { Worker } from './worker.ts';
import { createWorkflow, getWorkflow, listWorkflows } from './workflow-routes.ts';

export const DEFAULT_BODY_LIMIT = 5 * 1024 * 1024;
export const OPENAPI_VERSION = '1.0.0';

export interface ApiServerOptions {
  context: ApiContext;
  bodyLimit?: number;
  /** The `api` role: the /v1 routes. Without it only the health routes (and the webhook) are served. */
  api?: boolean;
  /** The `app` role: GitHub's webhooks on this path, handled by the App's ingress. */
  webhook?: { path: string; ingress: WebhookIngress };
  /** `--metrics-public`: GET /metrics without a token (for a scraper inside a trusted network). */
  metricsPublic?: boolean;
  /** The `worker` role's loop: with it, /metrics holds `cicd_worker_count` and the worker's errors. */
  worker?: Worker;
}

type Handler = (request: FastifyRequest, reply: FastifyReply) => unknown;
type Reply = { status: number; body: unknown; headers?: Record<string, string> };

interface Validators {
  params?: ValidateFunction;
  query: ValidateFunction;
  body?: ValidateFunction;
}

const id = (r: FastifyRequest) => (r.params as { id: string }).id;
const namespaceOf = (r: FastifyRequest) => (r.params as { namespace: string }).namespace;

function handlers(ctx: ApiContext): Record<string, (r: FastifyRequest) => Reply | Promise<Reply>> {
  const ok = (body: unknown, status = 200): Reply => ({ status, body });
  return {
    healthz: () => ok({ status: 'ok' }),
    readyz: async () => {
      const reasons = await readiness(ctx);
      if (reasons.length)
        throw new ApiError(503, 'not_ready', `not ready: ${reasons.join('; ')}`, {
          hint: 'see the server log',
        });
      return ok({ status: 'ok' });
    },
    createWorkflow: async (r) =>
      createWorkflow(
        ctx,
        callerOf(r),
        r.body as string | ApiBody.WorkflowCreate,
        r.query as ApiBody.WorkflowCreateQuery,
      ),
    listWorkflows: async (r) =>
      ok(await listWorkflows(ctx, callerOf(r), r.query as ApiBody.WorkflowListQuery)),
    getWorkflow: async (r) =>
      ok(await getWorkflow(ctx, callerOf(r), (r.params as { digest: string }).digest)),
    createRun: async (r) =>
      ok(
        await createRun(
          ctx,
          callerOf(r),
          r.body as ApiBody.RunCreate,
          idempotencyKey(r),
          requestTraceParent(r),
        ),
        202,
      ),
    triggerRunbook: async (r) =>
      ok(
        await triggerRunbook(
          ctx,
          callerOf(r),
          r.params as RunbookRef,
          r.body as TriggerBody,
          requestTraceParent(r),
        ),
        202,
      ),
    listRuns: async (r) => ok(await listRuns(ctx, callerOf(r), r.query as ApiBody.RunListQuery)),
    getRun: async (r) => ok(await getRun(ctx, callerOf(r), id(r))),
    cancelRun: async (r) => ok(await cancelRun(ctx, callerOf(r), id(r))),
    retryRun: async (r) => ok(await retryRun(ctx, callerOf(r), id(r), (r.query as ApiBody.RetryQuery).task)),
    approveRun: async (r) => {
      const answer = await approveRun(ctx, callerOf(r), id(r));
      return ok(answer.body, answer.status);
    },
    approveTask: async (r) => {
      const p = r.params as { id: string; taskId: string };
      const answer = await approveTaskOfRun(ctx, callerOf(r), p.id, p.taskId);
      return ok(answer.body, answer.status);
    },
    listTransitions: async (r) =>
      ok(await listTransitions(ctx, callerOf(r), id(r), (r.query as ApiBody.TransitionQuery).after)),
    listVerificationKeys: () => ok(listVerificationKeys(ctx)),
    querySbom: async (r) => ok(await querySbom(ctx, r.query as ApiBody.SbomQuery)),
    putBudget: async (r) =>
      ok(await putBudget(ctx, callerOf(r), namespaceOf(r), r.body as ApiBody.BudgetSet)),
    getBudget: async (r) => ok(await getBudget(ctx, callerOf(r), namespaceOf(r))),
    listBudgets: async (r) =>
      ok(await listBudgets(ctx, callerOf(r), (r.query as ApiBody.BudgetListQuery).namespace)),
    getUsage: async (r) => ok(await getUsage(ctx, callerOf(r), r.query as ApiBody.UsageQuery)),
    createSession: (r) => createSession(ctx, r),
    getSession: (r) => getSession(ctx, r),
    deleteSession: (r) => deleteSession(ctx, r),
    getRunGraph: async (r) => ok(await getRunGraph(ctx, callerOf(r), id(r))),
    listRunDecisions: async (r) => ok(await listRunDecisions(ctx, callerOf(r), id(r))),
    listReceipts: async (r) =>
      ok(await listReceipts(ctx, callerOf(r), id(r), (r.query as { task?: string }).task)),
    getDisclosure: async (r) => ({
      status: 200,
      body: await getDisclosure(ctx, callerOf(r), id(r)),
      headers: {
        'content-type': DISCLOSURE_MEDIA,
        'content-disposition': `attachment; filename="${id(r)}.disclosure.tgz"`,
      },
    }),
  };
}

function idempotencyKey(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  if (typeof key !== 'string' || key.length === 0 || key.length > 200)
    throw new ApiError(400, 'invalid_request', 'Idempotency-Key must be one value of 1 to 200 characters', {
      errors: [{ pointer: '/headers/idempotency-key', message: 'bad length' }],
    });
  return key;
}

function compileValidators(route: RouteSpec): Validators {
  const strict = createApiAjv({ coerceTypes: false });
  const coercing = createApiAjv({ coerceTypes: true });
  const jsonBody = route.body?.['application/json'];
  return {
    ...(route.params ? { params: coercing.compile(definitionRef(route.params)) } : {}),
    query: coercing.compile(
      route.query ? definitionRef(route.query) : { type: 'object', additionalProperties: false },
    ),
    ...(typeof jsonBody === 'string' ? { body: strict.compile(definitionRef(jsonBody)) } : {}),
  };
}

function check(where: string, validate: ValidateFunction, value: unknown): void {
  if (validate(value)) return;
  const errors = describeErrors(where, validate.errors ?? []);
  throw new ApiError(
    400,
    'invalid_request',
    `the request is invalid: ${errors.map((e) => `${e.pointer} ${e.message}`).join('; ')}`,
    {
      errors,
    },
  );
}

function validateRequest(route: RouteSpec, v: Validators, request: FastifyRequest): void {
  if (v.params) check('/path', v.params, request.params);
  check('/query', v.query, request.query ?? {});
  if (!route.body) {
    if (request.body !== undefined && request.body !== null)
      throw new ApiError(400, 'invalid_request', 'this route takes no body', {
        errors: [{ pointer: '/body', message: 'unexpected body' }],
      });
    return;
  }
  const media = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (!(media in route.body))
    throw new ApiError(
      415,
      'unsupported_media_type',
      `${route.url} takes ${Object.keys(route.body).join(' or ')}`,
      {
        hint: 'set the Content-Type header',
      },
    );
  if (media === 'application/json' && v.body) check('/body', v.body, request.body);
}

/** A route about every namespace (allNamespaces) needs a token that is not limited to some. */
function assertAllNamespaces(caller: Caller, route: RouteSpec): void {
  if (!route.allNamespaces || caller.namespaces.length === 0) return;
  throw new ApiError(
    403,
    'forbidden_namespace',
    `${route.url} covers every namespace; this token is limited to ${caller.namespaces.join(', ')}`,
    { hint: `create a token without --namespace, with --scope ${route.scope}` },
  );
}

function registerRoute(
  fastify: FastifyInstance,
  ctx: ApiContext,
  route: RouteSpec,
  handler: Handler,
  open = false,
): void {
  const validators = compileValidators(route);
  fastify.route({
    method: route.method,
    url: route.url,
    // Before the body is read: an unauthenticated client makes the server parse nothing.
    onRequest: async (request) => {
      if (!route.scope || open) return;
      const caller = await authenticateRequest(ctx.apiStore, request, ctx.clock.now());
      authorize(caller, route.scope);
      assertAllNamespaces(caller, route);
      setCaller(request, caller);
    },
    preHandler: async (request) => validateRequest(route, validators, request),
    handler,
  });
}

function mountWebhook(
  fastify: FastifyInstance,
  webhook: NonNullable<ApiServerOptions['webhook']>,
  metrics: ControlPlaneMetrics,
): void {
  // As createWebhookIngress's doc comment says: Fastify must not parse this body.
  void fastify.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.post(webhook.path, (request, reply) => {
      const start = performance.now();
      // `close`, not `finish`: an aborted delivery is answered too (as instrumentRequests counts).
      reply.raw.once('close', () =>
        metrics.webhookAck((performance.now() - start) / 1000, reply.raw.statusCode),
      );
      reply.hijack();
      webhook.ingress.handle(request.raw, reply.raw);
    });
  });
  fastify.addHook('onClose', () => webhook.ingress.close());
}

function metricsHandler(metrics: ServerMetrics): Handler {
  return async (_request, reply) => {
    const { contentType, text } = await metrics.scrape();
    return reply.code(200).type(contentType).send(text);
  };
}

/**
 * The CI/CD metrics, fed by this process's engine (every role: a run is queued or approved by the
 * `api` process and executed by a `worker`, each publishing its own transitions) and worker loop.
 */
async function instrumentPipelines(
  fastify: FastifyInstance,
  ctx: ApiContext,
  metrics: ServerMetrics,
  worker: Worker | undefined,
): Promise<ControlPlaneMetrics> {
  const controlPlane = await startControlPlaneMetrics({
    registry: metrics.registry,
    telemetry: ctx.runtime.telemetry,
    ...(worker ? { worker } : {}),
  });
  const pipelines = await startPipelineMetrics({
    registry: metrics.registry,
    engine: ctx.runtime.engine,
    pipelineName: async (runId) => (await ctx.runtime.store.getRun(runId)).workflow,
    recovery: (runId, endedAt, known) => recoverySeconds(ctx.runtime.store, runId, endedAt, known),
    ...(worker ? { slots: () => worker.slots() } : {}),
    logger: ctx.logger,
  });
  const off = worker?.onError((type) => pipelines.systemError('worker', type));
  const exporting = ctx.runtime.config.metrics;
  const otlp = exporting
    ? await startOtlpMetrics({
        registry: metrics.registry,
        resource: await ctx.runtime.tracing.resource(),
        intervalMs: exporting.intervalMs,
        timeoutMs: exporting.timeoutMs,
        logger: ctx.logger,
      })
    : undefined;
  fastify.addHook('onClose', async () => {
    off?.();
    pipelines.close();
    controlPlane.close();
    // After the engine's last events: the final export carries the runs that just ended.
    await otlp?.shutdown();
  });
  return controlPlane;
}

export async function createApiServer(options: ApiServerOptions): Promise<FastifyInstance> {
  // Loaded here, not at the top: api/index.ts is imported by every `maestro` command (tokens and
  // server register their help from it), and Fastify is ~90 modules only a server needs.
  const { default: Fastify } = await import('fastify');
  const ctx = options.context;
  const fastify = Fastify({
    // Cast: pino's Logger and Fastify's base logger type differ only in generics.
    loggerInstance: ctx.logger.child({ name: 'api' }) as FastifyBaseLogger,
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    // The route table is the only router; nothing is matched loosely.
    routerOptions: { ignoreTrailingSlash: false, caseSensitive: true },
  });
  fastify.addContentTypeParser('application/yaml', { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );
  fastify.setErrorHandler((error, request, reply) => {
    const problem = toProblem(error);
    if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, problem);
  });
  fastify.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      toProblem(
        new ApiError(404, 'route_not_found', `no route ${request.method} ${request.url.split('?')[0]}`, {
          hint: 'GET /openapi.json lists the routes',
        }),
      ),
    ),
  );
  // Before the routes, so every route (and the 404 handler) is counted.
  const metrics: ServerMetrics = await createServerMetrics();
  await instrumentRequests(fastify, metrics);
  traceRequests(fastify, ctx.runtime.tracing.tracer);
  const controlPlane = await instrumentPipelines(fastify, ctx, metrics, options.worker);
  const table = handlers(ctx);
  for (const route of ROUTES) {
    if (route.operationId === 'metrics') {
      // Every role serves its process's metrics (a worker-only replica is scraped too).
      registerRoute(fastify, ctx, route, metricsHandler(metrics), options.metricsPublic === true);
      continue;
    }
    if (options.api === false && route.scope !== null) continue;
    if (route.operationId === 'streamLogs') {
      registerRoute(fastify, ctx, route, async (request, reply) => {
        await findRun(ctx, callerOf(request), id(request));
        streamLogs(ctx, reply, {
          runId: id(request),
          query: request.query as ApiBody.LogQuery,
          lastEventId: request.headers['last-event-id'],
          recheck: () => authenticateRequest(ctx.apiStore, request, ctx.clock.now()),
        });
      });
      continue;
    }
    if (route.operationId === 'streamEvents') {
      registerRoute(fastify, ctx, route, async (request, reply) => {
        await streamEvents(ctx, reply, {
          caller: callerOf(request),
          query: request.query as ApiBody.EventQuery,
          lastEventId: request.headers['last-event-id'],
          recheck: () => authenticateRequest(ctx.apiStore, request, ctx.clock.now()),
        });
      });
      continue;
    }
    const handle = table[route.operationId]!;
    registerRoute(fastify, ctx, route, async (request, reply) => {
      const result = await handle(request);
      if (result.headers) void reply.headers(result.headers);
      return reply.code(result.status).send(result.body);
    });
  }
  fastify.addHook('onClose', () => ctx.layouts.close());
  const openapi = buildOpenApi(OPENAPI_VERSION);
  // The API's description is public: it says nothing the repository does not.
  fastify.get('/openapi.json', async () => openapi);
  if (options.webhook) mountWebhook(fastify, options.webhook, controlPlane);
  return fastify;
}
