import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { digestOf, type SigClaims } from '../../core/index.ts';
import type { ContractVersion } from '../../sig/index.ts';
import { checkContract, sendProblem, type RouteContext } from './route-context.ts';

type StoredClaim = SigClaims.Claim & { version: number };

const KINDS: Record<ContractVersion, readonly string[]> = {
  1: ['build', 'test', 'disclosure'],
  2: ['build', 'test', 'disclosure', 'attestation'],
  3: ['build', 'test', 'disclosure', 'attestation'],
};

/** POST /vN/claims, GET /vN/claims/{claimId}, POST /vN/claims/{claimId}/receipts. */
export function registerClaimsRoutes(app: FastifyInstance, ctx: RouteContext, version: ContractVersion) {
  app.post(`/v${version}/claims`, (request, reply) => registerClaim(ctx, version, request, reply));
  app.get(`/v${version}/claims/:claimId`, (request, reply) => {
    const matched = checkContract(ctx, 'claims', version, request, reply, undefined);
    if (!matched) return reply;
    return answerClaim(ctx, version, reply, matched.params.claimId!, 200);
  });
  app.post(`/v${version}/claims/:claimId/receipts`, (request, reply) =>
    linkReceipts(ctx, version, request, reply),
  );
}

function registerClaim(
  ctx: RouteContext,
  version: ContractVersion,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  if (!checkContract(ctx, 'claims', version, request, reply, request.body)) return reply;
  const body = request.body as SigClaims.ClaimRequest;
  const bodyDigest = digestOf(body);
  const earlier = ctx.received.claimKeys.get(body.idempotencyKey);
  if (earlier && earlier.bodyDigest !== bodyDigest)
    return sendProblem(
      reply,
      409,
      'idempotency_key_reused',
      `idempotencyKey ${body.idempotencyKey} registered another claim`,
    );
  if (earlier) return answerClaim(ctx, version, reply, earlier.id, 200);
  const id = `c-${bodyDigest.slice(0, 20)}`;
  const { idempotencyKey: _key, ...claim } = body;
  ctx.received.claims.set(id, { ...claim, id, createdAt: new Date().toISOString(), receipts: [], version });
  ctx.received.claimKeys.set(body.idempotencyKey, { id, bodyDigest });
  return answerClaim(ctx, version, reply, id, 201);
}

function linkReceipts(
  ctx: RouteContext,
  version: ContractVersion,
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const matched = checkContract(ctx, 'claims', version, request, reply, request.body);
  if (!matched) return reply;
  const claim = ctx.received.claims.get(matched.params.claimId!);
  if (!claim) return sendProblem(reply, 404, 'not_found', `no claim ${matched.params.claimId}`);
  for (const link of (request.body as SigClaims.LinkRequest).receipts) {
    if (claim.receipts.some((r) => r.digest === link.digest)) continue;
    // v3 names the place `location`; an older client's `uri` is the same thing.
    const location = link.location ?? link.uri;
    claim.receipts.push({ ...link, ...(location ? { location } : {}) });
  }
  return answerClaim(ctx, version, reply, claim.id, 200);
}

/** A claim in the shape of the version asked for; one that version cannot express is not in it. */
function answerClaim(
  ctx: RouteContext,
  version: ContractVersion,
  reply: FastifyReply,
  id: string,
  status: number,
) {
  const stored = ctx.received.claims.get(id);
  if (!stored) return sendProblem(reply, 404, 'not_found', `no claim ${id}`);
  if (!KINDS[version].includes(stored.kind))
    return sendProblem(
      reply,
      404,
      'not_in_version',
      `claim ${id} is of kind ${stored.kind}, which v${version} does not have`,
    );
  return reply.code(status).send(claimForVersion(stored, version));
}

function claimForVersion(stored: StoredClaim, version: ContractVersion): SigClaims.Claim {
  const { version: _v, policy, expiresAt, ...claim } = stored;
  const receipts = stored.receipts.map(({ location, uri, ...link }) =>
    version >= 3
      ? { ...link, ...(uri ? { uri } : {}), ...(location ? { location } : {}) }
      : { ...link, ...((uri ?? location) ? { uri: uri ?? location } : {}) },
  );
  return {
    ...claim,
    receipts,
    ...(version >= 2 && expiresAt ? { expiresAt } : {}),
    ...(version >= 3 && policy ? { policy } : {}),
  };
}
