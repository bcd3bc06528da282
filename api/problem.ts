/**
 * Errors as `application/problem+json` (RFC 9457) with a stable `code`. Every failure the API
 * answers goes through `toProblem`, once, in the server's error handler: a typed error keeps its
 * code and hint; anything else is a 500 whose detail never carries the internal message.
 */
import type { FastifyError, FastifyReply } from 'fastify';
import { Fault, isMaestroError, MaestroError, type ApiBody } from '../core/index.ts';

export class ApiError extends MaestroError {
  readonly status: number;
  readonly errors: ApiBody.Problem['errors'];
  readonly diagnostics: ApiBody.Problem['diagnostics'];

  constructor(
    status: number,
    code: string,
    message: string,
    extra: { hint?: string; errors?: ApiBody.Problem['errors']; diagnostics?: ApiBody.Diagnostic[] } = {},
  ) {
    super(code, message, {
      fault: status >= 500 ? Fault.system : Fault.user,
      ...(extra.hint ? { hint: extra.hint } : {}),
    });
    this.status = status;
    this.errors = extra.errors;
    this.diagnostics = extra.diagnostics;
  }
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Maestro error codes that are not the client's fault in the 4xx sense, by status. */
const STATUS_BY_CODE: Record<string, number> = {
  not_found: 404,
  stale_state: 409,
  run_busy: 409,
  runner_not_configured: 422,
  missing_secret: 422,
  run_not_waiting: 409,
  run_not_approved: 409,
  task_not_retryable: 409,
  approval_pending: 409,
  task_not_waiting: 409,
  approver_is_author: 403,
  approver_not_allowed: 403,
  approval_signer_unavailable: 503,
};

export function toProblem(error: unknown): ApiBody.Problem {
  if (error instanceof ApiError) return problem(error.status, error.code, error.message, error);
  if (isMaestroError(error)) {
    // A request that is well formed but asks for something the workflow cannot take (its params).
    const semantic = error.code.startsWith('param_') ? 422 : undefined;
    const status = STATUS_BY_CODE[error.code] ?? semantic ?? (error.fault === Fault.user ? 400 : 500);
    return problem(status, error.code, status === 500 ? 'internal error' : error.message, error);
  }
  const fastify = error as Partial<FastifyError>;
  if (fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE')
    return problem(413, 'body_too_large', 'the request body is larger than the limit', {
      hint: 'send a smaller body (the limit is the server’s --body-limit, 5 MB by default)',
    });
  if (fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
    return problem(415, 'unsupported_media_type', 'the Content-Type is not accepted by this route', {
      hint: 'send application/json (or application/yaml to POST /v1/workflows)',
    });
  if (fastify.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || fastify.code === 'FST_ERR_CTP_INVALID_CONTENT_LENGTH')
    return problem(400, 'bad_body', fastify.message ?? 'the body could not be read', {});
  if (fastify.statusCode === 400 && error instanceof SyntaxError)
    return problem(400, 'bad_json', `the body is not JSON: ${error.message}`, {});
  if (fastify.statusCode === 404)
    return problem(404, 'route_not_found', fastify.message ?? 'no such route', {});
  return problem(500, 'internal', 'internal error', {});
}

function problem(
  status: number,
  code: string,
  detail: string,
  extra: {
    hint?: string | undefined;
    errors?: ApiBody.Problem['errors'];
    diagnostics?: ApiBody.Diagnostic[];
  },
): ApiBody.Problem {
  return {
    type: `https://maestro.dev/problems/${code}`,
    title: TITLES[status] ?? 'Error',
    status,
    code,
    detail,
    ...(extra.hint ? { hint: extra.hint } : {}),
    ...(extra.errors ? { errors: extra.errors } : {}),
    ...(extra.diagnostics ? { diagnostics: extra.diagnostics } : {}),
  };
}

export function sendProblem(reply: FastifyReply, body: ApiBody.Problem): FastifyReply {
  return reply.code(body.status).type('application/problem+json').send(body);
}
