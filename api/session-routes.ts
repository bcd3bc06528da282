/**
 * POST /v1/session (a bearer token in, a session cookie out), GET /v1/session (who the cookie
 * is, and its CSRF token), DELETE /v1/session (sign out). Plain functions of the request, as the
 * other routes; they return the headers to set beside the body.
 */
import type { FastifyRequest } from 'fastify';
import type { ApiBody } from '../core/index.ts';
import type { ApiContext } from './api-context.ts';
import { callerOf, type Caller } from './auth.ts';
import { ApiError } from './problem.ts';
import {
  csrfTokenOf,
  hashSecret,
  isSecureRequest,
  mintSessionSecret,
  SESSION_TTL_MS,
  sessionSecretOf,
  setCookieHeader,
} from './session.ts';
import { hashToken } from './tokens.ts';

export interface SessionReply {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

function view(caller: Caller, expiresAt: number, secret: string): ApiBody.Session {
  return {
    user: caller.user,
    scopes: [...caller.scopes],
    namespaces: [...caller.namespaces],
    expiresAt: new Date(expiresAt).toISOString(),
    csrfToken: csrfTokenOf(secret),
  };
}

const noStore = { 'cache-control': 'no-store' };

export async function createSession(ctx: ApiContext, request: FastifyRequest): Promise<SessionReply> {
  const caller = callerOf(request);
  // Only a token makes a session: a session making another would outlive its own expiry.
  const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
  if (caller.session !== undefined || !bearer)
    throw new ApiError(401, 'unauthorized', 'POST /v1/session takes the token as Authorization: Bearer', {
      hint: 'sign in with a token from `maestro tokens create --scope console,…`',
    });
  // Never reuse a session the browser came with (fixation): it is ended, and a new one minted.
  const previous = sessionSecretOf(request);
  if (previous !== undefined) await ctx.apiStore.deleteSession(hashSecret(previous));
  const now = ctx.clock.now();
  const secret = mintSessionSecret();
  const expiresAt = Math.min(now + SESSION_TTL_MS, caller.expiresAt);
  await ctx.apiStore.putSession(
    { hash: hashSecret(secret), tokenHash: hashToken(bearer[1]!), createdAt: now, expiresAt },
    now,
  );
  return {
    status: 201,
    body: view(caller, expiresAt, secret),
    headers: { ...noStore, 'set-cookie': setCookieHeader(secret, expiresAt - now, isSecureRequest(request)) },
  };
}

export function getSession(_ctx: ApiContext, request: FastifyRequest): SessionReply {
  const caller = callerOf(request);
  const secret = sessionSecretOf(request);
  if (caller.session === undefined || secret === undefined)
    throw new ApiError(404, 'no_session', 'this request carries no session cookie', {
      hint: 'POST /v1/session with a token first',
    });
  return { status: 200, body: view(caller, caller.expiresAt, secret), headers: noStore };
}

export async function deleteSession(ctx: ApiContext, request: FastifyRequest): Promise<SessionReply> {
  const caller = callerOf(request);
  const ended = caller.session !== undefined && (await ctx.apiStore.deleteSession(caller.session));
  const secure = isSecureRequest(request);
  return {
    status: 200,
    body: { signedOut: ended } satisfies ApiBody.SignedOut,
    headers: { ...noStore, 'set-cookie': setCookieHeader('', 0, secure) },
  };
}
