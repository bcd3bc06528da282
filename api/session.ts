/**
 * Console sessions: a token exchanged for a cookie (POST /v1/session), so a browser page can use
 * the API without holding the token in script-readable storage, and EventSource (which cannot
 * set headers) can stream. The cookie is HttpOnly (no script reads it, so an XSS cannot steal
 * it), SameSite=Strict (no other site's page sends it), Path=/ with no Domain (this host only),
 * Secure and `__Host-`-prefixed over TLS (no sibling subdomain can plant one). Only its SHA-256 is
 * stored. A session acts with its token's current scopes and namespaces, checked on every
 * request, so revoking the token ends the session at once.
 *
 * CSRF: every state-changing request made with the cookie must carry `X-CSRF-Token`, an HMAC of
 * the cookie's secret; a page of another origin cannot read it (nor the cookie), so it cannot
 * forge it. A bearer token needs no CSRF token: a browser never attaches one by itself. Cookie
 * parsing is a few lines here rather than @fastify/cookie: one cookie of a fixed name is read.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { ApiStore } from './api-store.ts';
import { authenticate, callerOfToken, isLiveToken, unauthorized, type Caller } from './auth.ts';
import { ApiError } from './problem.ts';

/** A session lasts this long at most (and never past its token's expiry). */
export const SESSION_TTL_MS = 12 * 3_600_000;
export const CSRF_HEADER = 'x-csrf-token';
const PLAIN_COOKIE = 'maestro-session';
// `__Host-`: the browser accepts it only with Secure, Path=/ and no Domain, from this very host.
const HOST_COOKIE = '__Host-maestro-session';
const SECRET_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

export function csrfTokenOf(secret: string): string {
  return createHmac('sha256', secret).update('maestro-csrf-v1').digest('base64url');
}

/** TLS here, or at a proxy in front that says so: the cookie is then Secure and `__Host-`. */
export function isSecureRequest(request: FastifyRequest): boolean {
  return request.protocol === 'https' || request.headers['x-forwarded-proto'] === 'https';
}

export const cookieName = (secure: boolean): string => (secure ? HOST_COOKIE : PLAIN_COOKIE);

/** The session secret the request's Cookie header carries under this server's cookie name. */
export function sessionSecretOf(request: FastifyRequest): string | undefined {
  const name = cookieName(isSecureRequest(request));
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function setCookieHeader(secret: string, maxAgeMs: number, secure: boolean): string {
  const seconds = Math.max(0, Math.floor(maxAgeMs / 1000));
  return `${cookieName(secure)}=${secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${seconds}${secure ? '; Secure' : ''}`;
}

export function mintSessionSecret(): string {
  return randomBytes(32).toString('base64url');
}

async function sessionCaller(store: ApiStore, secret: string, now: number): Promise<Caller> {
  if (!SECRET_SHAPE.test(secret)) throw sessionEnded('the session cookie is malformed');
  const hash = hashSecret(secret);
  const session = await store.sessionByHash(hash);
  if (!session || session.expiresAt <= now) throw sessionEnded('the session is unknown or expired');
  const token = await store.tokenByHash(session.tokenHash);
  if (!isLiveToken(token, now)) throw sessionEnded('the session’s token is revoked or expired');
  return { ...callerOfToken(token), expiresAt: session.expiresAt, session: hash };
}

const sessionEnded = (detail: string) =>
  new ApiError(401, 'unauthorized', detail, { hint: 'sign in again with a token (POST /v1/session)' });

function checkCsrf(secret: string, header: string | string[] | undefined): void {
  const expected = Buffer.from(csrfTokenOf(secret));
  const given = Buffer.from(typeof header === 'string' ? header : '');
  if (given.length === expected.length && timingSafeEqual(given, expected)) return;
  throw new ApiError(403, 'csrf_failed', `a ${'request'} made with the session cookie needs ${CSRF_HEADER}`, {
    hint: 'send the csrfToken of GET /v1/session as the X-CSRF-Token header',
  });
}

/**
 * Who is calling: a bearer token when the Authorization header is there (it wins; no CSRF
 * token needed), else the session cookie (with the CSRF check on every state-changing method).
 */
export async function authenticateRequest(
  store: ApiStore,
  request: FastifyRequest,
  now: number,
): Promise<Caller> {
  const header = request.headers.authorization;
  if (header !== undefined) return authenticate(store, header, now);
  const secret = sessionSecretOf(request);
  if (secret === undefined) throw unauthorized('this route needs a token');
  const caller = await sessionCaller(store, secret, now);
  if (!SAFE_METHODS.has(request.method)) checkCsrf(secret, request.headers[CSRF_HEADER]);
  return caller;
}
