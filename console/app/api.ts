/** GET /v1/runs asked without `fields` (as the console always asks): every item is a whole summary. */
export type RunPage = Omit<ApiBody.RunList, 'items'> & { items: ApiBody.RunSummary[] };

/**
 * The console's only way to the server: the public REST API, with the session cookie the
 * browser holds (HttpOnly: this code never sees it) and the session's CSRF token on every
 * state-changing request. The token typed at sign-in is sent once, as a bearer header, and kept
 * nowhere.
 */
import type { ApiBody } from '../../core/index.ts';

export type Session = ApiBody.Session;

export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, detail: string) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

let csrfToken = '';

async function problemOf(response: Response): Promise<ApiProblem> {
  try {
    const body = (await response.json()) as { code?: string; detail?: string };
    return new ApiProblem(response.status, body.code ?? 'error', body.detail ?? response.statusText);
  } catch {
    return new ApiProblem(response.status, 'error', response.statusText);
  }
}

export async function call<T>(method: 'GET' | 'POST' | 'DELETE', path: string): Promise<T> {
  const response = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: method === 'GET' ? {} : { 'x-csrf-token': csrfToken },
  });
  if (!response.ok) throw await problemOf(response);
  return (await response.json()) as T;
}

export async function signIn(token: string): Promise<Session> {
  const response = await fetch('/v1/session', {
    method: 'POST',
    credentials: 'same-origin',
    headers: { authorization: `Bearer ${token.trim()}` },
  });
  if (!response.ok) throw await problemOf(response);
  const session = (await response.json()) as Session;
  csrfToken = session.csrfToken;
  return session;
}

/** The cookie's session, or null when there is none (signed out, expired, revoked). */
export async function currentSession(): Promise<Session | null> {
  const response = await fetch('/v1/session', { credentials: 'same-origin' });
  if (response.status === 401 || response.status === 404) return null;
  if (!response.ok) throw await problemOf(response);
  const session = (await response.json()) as Session;
  csrfToken = session.csrfToken;
  return session;
}

export async function signOut(): Promise<void> {
  await call('DELETE', '/v1/session');
  csrfToken = '';
}

/** Whether the session may use a scope in a namespace (the buttons it cannot use are hidden). */
export function may(session: Session, scope: string, namespace?: string): boolean {
  const scoped = session.scopes.includes(scope) || session.scopes.includes('admin');
  const inNamespace =
    namespace === undefined || session.namespaces.length === 0 || session.namespaces.includes(namespace);
  return scoped && inNamespace;
}
