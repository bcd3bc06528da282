/**
 * Who is calling: the bearer token is checked before the body is read (an `onRequest` hook), so
 * an unauthenticated client cannot make the server parse anything. 401 for a missing, malformed,
 * unknown, revoked or expired token (one answer for all, so the answer tells an attacker
 * nothing); 403 for a token without the route's scope. Namespace limits are checked where the
 * namespace is known (`assertNamespace`), after the resource is found.
 */
import type { FastifyRequest } from 'fastify';
import type { ApiStore, StoredToken } from './api-store.ts';
import { ApiError } from './problem.ts';
import { hashToken, isWellFormedToken, type Scope } from './tokens.ts';

export interface Caller {
  tokenId: string;
  user: string;
  scopes: readonly Scope[];
  /** Empty: every namespace. */
  namespaces: readonly string[];
  /** When the credential ends (the token's expiry, or the session's). */
  expiresAt: number;
  /** The SHA-256 of the session cookie, when the caller came with one rather than a bearer token. */
  session?: string;
}

export const unauthorized = (detail: string) =>
  new ApiError(401, 'unauthorized', detail, {
    hint: 'send Authorization: Bearer mst_… with a token from `maestro tokens create`',
  });

export async function authenticate(
  store: ApiStore,
  header: string | undefined,
  now: number,
): Promise<Caller> {
  if (!header) throw unauthorized('this route needs a token');
  const match = /^Bearer ([^\s]+)$/.exec(header);
  if (!match || !isWellFormedToken(match[1]!)) throw unauthorized('the token is malformed');
  const token: StoredToken | undefined = await store.tokenByHash(hashToken(match[1]!));
  if (!isLiveToken(token, now)) throw unauthorized('the token is unknown, revoked or expired');
  return callerOfToken(token);
}

export function callerOfToken(token: StoredToken): Caller {
  return {
    tokenId: token.id,
    user: token.user,
    scopes: token.scopes,
    namespaces: token.namespaces,
    expiresAt: token.expiresAt,
  };
}

/** Whether a stored token may still be used (not revoked, not expired). */
export function isLiveToken(token: StoredToken | undefined, now: number): token is StoredToken {
  return token !== undefined && token.revokedAt === null && token.expiresAt > now;
}

export function authorize(caller: Caller, scope: Scope): void {
  if (caller.scopes.includes(scope) || caller.scopes.includes('admin')) return;
  throw new ApiError(403, 'forbidden_scope', `this route needs the scope ${scope}`, {
    hint: `create a token with --scope ${scope}`,
  });
}

export function assertNamespace(caller: Caller, namespace: string): void {
  if (caller.namespaces.length === 0 || caller.namespaces.includes(namespace)) return;
  throw new ApiError(403, 'forbidden_namespace', `this token may not act on namespace ${namespace}`, {
    hint: `its namespaces are ${caller.namespaces.join(', ')}`,
  });
}

/** The caller a route's onRequest hook put on the request (routes with a scope only). */
export function callerOf(request: FastifyRequest): Caller {
  const caller = (request as FastifyRequest & { caller?: Caller }).caller;
  if (!caller) throw new ApiError(500, 'internal', 'no caller on an authenticated route');
  return caller;
}

export function setCaller(request: FastifyRequest, caller: Caller): void {
  (request as FastifyRequest & { caller?: Caller }).caller = caller;
}
