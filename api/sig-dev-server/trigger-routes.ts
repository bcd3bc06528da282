import type { FastifyInstance } from 'fastify';
import type { SigRunbookTrigger } from '../../core/index.ts';
import type { ContractVersion } from '../../sig/index.ts';
import { checkContract, sendProblem, type RouteContext } from './route-context.ts';

/**
 * POST /v1/runbooks/{namespace}/{name}/trigger as `maestro server` answers it, for testing SIG's
 * side of the trigger contract (the versions a body's contractVersion may name). It records the
 * trigger and answers queued; the allow-list and the policy decision are `maestro server`'s.
 */
export function registerTriggerRoutes(app: FastifyInstance, ctx: RouteContext, versions: ContractVersion[]) {
  let runs = 0;
  app.post('/v1/runbooks/:namespace/:name/trigger', (request, reply) => {
    if (!/^Bearer \S+$/.test(request.headers.authorization ?? ''))
      return sendProblem(
        reply,
        401,
        'unauthenticated',
        'a bearer token with the runbooks:trigger scope is required',
      );
    const body = (request.body ?? {}) as { contractVersion?: unknown };
    const version = (body.contractVersion ?? 1) as ContractVersion;
    if (!versions.includes(version))
      return sendProblem(
        reply,
        400,
        'contract_version_unsupported',
        `contractVersion ${String(body.contractVersion)} is not one of ${versions.join(', ')}`,
      );
    const matched = checkContract(ctx, 'runbook-trigger', version, request, reply, request.body);
    if (!matched) return reply;
    const trigger = request.body as SigRunbookTrigger.TriggerRequest;
    ctx.received.triggers.push({
      version,
      namespace: matched.params.namespace!,
      name: matched.params.name!,
      body: { ...trigger },
    });
    runs++;
    const correlationId = trigger.correlationId ?? trigger.requestId;
    return reply.code(202).send({
      runId: `run-${runs}`,
      status: 'queued',
      decisionId: `decision-${runs}`,
      ...(version >= 3 && correlationId ? { correlationId } : {}),
    });
  });
}
