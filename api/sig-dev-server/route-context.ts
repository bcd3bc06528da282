import type { FastifyReply, FastifyRequest } from 'fastify';
import type {
  ContractName,
  ContractProblem,
  ContractRegistry,
  ContractVersion,
  Operation,
} from '../../sig/index.ts';
import type { SigReceived } from './received.ts';

/** Failures a test scripts: the next N requests answered with a status, a stream cut after N records. */
export interface SigFaults {
  failNext(count: number, status: 429 | 500 | 503, retryAfterSeconds?: number): void;
  /** Answers the request normally, then drops the connection before the client reads it. */
  loseNextAnswer(): void;
  cutStreamAfter(records: number): void;
  /** Waits this long before acknowledging each stream record (a slow SIG). */
  ackDelayMs: number;
}

export interface RouteContext {
  registry: ContractRegistry;
  received: SigReceived;
  faults: SigFaults & { consumeCut(): number | undefined; consumeLoss(): boolean };
  streamWindow: number;
}

/**
 * Checks a request against the contract operation it names; answers 400 and returns undefined
 * when it breaks it. `body` is the parsed JSON body (or one NDJSON line, for streams).
 */
export function checkContract(
  ctx: RouteContext,
  contract: ContractName,
  version: ContractVersion,
  request: FastifyRequest,
  reply: FastifyReply,
  body: unknown,
): { operation: Operation; params: Record<string, string> } | undefined {
  const pathname = request.url.split('?')[0]!;
  const matched = ctx.registry.match(contract, version, request.method, pathname);
  if (!matched) {
    void sendProblem(
      reply,
      404,
      'not_found',
      `${request.method} ${pathname} is not in ${contract} v${version}`,
    );
    return undefined;
  }
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim();
  const problems = ctx.registry.checkRequest(matched.operation, matched.params, contentType, body);
  if (problems.length === 0) return matched;
  rejectContract(ctx, request, reply, problems);
  return undefined;
}

export function rejectContract(
  ctx: RouteContext,
  request: FastifyRequest,
  reply: FastifyReply,
  problems: ContractProblem[],
) {
  ctx.received.violations.push({ method: request.method, url: request.url, problems });
  const detail = problems.map((p) => `${p.pointer}: ${p.message}`).join('; ');
  void sendProblem(reply, 400, 'contract_violation', `the request breaks the contract: ${detail}`, problems);
}

export function sendProblem(
  reply: FastifyReply,
  status: number,
  code: string,
  detail: string,
  errors?: ContractProblem[],
) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ status, code, detail, ...(errors ? { errors } : {}) });
}
