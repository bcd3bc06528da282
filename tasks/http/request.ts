// The http task's request, redirects included, as a function: index.ts is the task around it (on
// the SDK: inputs, the body file, outputs, the span), the engine's `wait` polls with it
// (tasks/index.ts exports it as sendHttpRequest), and tests call it in-process against a local
// server. It imports no SDK, so the engine's import of it stays light.
import { credentialInClear } from '../../core/index.ts';
import { hostAllowed, redirectAllowList } from './egress.ts';

export interface HttpInputs {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  identity?: string;
  timeoutMs?: number;
  failOnStatus?: boolean;
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: Buffer;
  /** The method and URL of the last hop (after redirects). */
  method: string;
  url: URL;
}

/** Why the request failed: a stable `code` (the task's TaskError code) and a message naming the host. */
export class HttpTaskError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'HttpTaskError';
    this.code = code;
  }
}

const MAX_REDIRECTS = 10;
const REDIRECTS = [301, 302, 303, 307, 308];
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

/**
 * Sends the request. Redirects are followed by hand, never by fetch: each hop goes to a host policy
 * did not see, so it is checked against the egress allow-list first (`env` carries it, see
 * egress.ts), and credentials never follow a hop to another origin. `signal` (the task's
 * cancellation) aborts the request in flight.
 */
export async function sendRequest(
  inputs: HttpInputs,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
  signal?: AbortSignal,
): Promise<HttpResult> {
  let url = parseUrl(inputs.url);
  const headers: Record<string, string> = { ...inputs.headers };
  // The identity is a bearer token (`${workload.identity}`): never in clear off this host.
  const identityInClear = inputs.identity ? credentialInClear(url, 'identity') : undefined;
  if (identityInClear) throw new HttpTaskError('identity_in_clear', identityInClear);
  if (inputs.identity) headers.authorization = `Bearer ${inputs.identity}`;
  refuseCredentialsInClear(url, headers);
  const allowList = redirectAllowList(env, url.hostname);
  let method = inputs.method ?? 'GET';
  let requestBody = inputs.body;
  for (let hop = 0; ; hop++) {
    const response = await send(url, method, headers, requestBody, inputs.timeoutMs ?? 30_000, signal);
    const location = response.headers.get('location');
    if (!REDIRECTS.includes(response.status) || location === null)
      return {
        status: response.status,
        headers: response.headers,
        body: Buffer.from(await response.arrayBuffer()),
        method,
        url,
      };
    await response.body?.cancel();
    const next = new URL(location, url);
    const refuse = (why: string) =>
      new HttpTaskError('redirect_refused', `redirect from ${url.origin} to ${next.origin} refused: ${why}`);
    if (hop + 1 > MAX_REDIRECTS) throw refuse(`more than ${MAX_REDIRECTS} redirects`);
    if (next.protocol !== 'http:' && next.protocol !== 'https:')
      throw refuse(`${next.protocol} is not http(s)`);
    if (!hostAllowed(next.hostname, allowList))
      throw refuse(`${next.hostname} is not on the outbound allow-list (${allowList.join(', ')})`);
    // A credential is for the origin it was given for; another origin does not get it.
    if (next.origin !== url.origin)
      for (const name of Object.keys(headers))
        if (CREDENTIAL_HEADERS.includes(name.toLowerCase())) delete headers[name];
    // As fetch does: 303 (and 301/302 after a POST) become a GET without a body.
    if (
      response.status === 303 ||
      ((response.status === 301 || response.status === 302) && method === 'POST')
    ) {
      method = method === 'HEAD' ? 'HEAD' : 'GET';
      requestBody = undefined;
    }
    log(`${response.status} ${url.origin}${url.pathname} -> ${next.origin}${next.pathname}`);
    url = next;
  }
}

/**
 * A credential header (authorization, proxy-authorization, cookie) goes over plain http:// only
 * to a loopback address, as an identity does: anyone on the path would read it. Checked on the
 * first URL; a redirect to another origin drops these headers (below), and a same-origin hop
 * keeps the scheme.
 */
function refuseCredentialsInClear(url: URL, headers: Record<string, string>): void {
  const name = Object.keys(headers).find((h) => CREDENTIAL_HEADERS.includes(h.toLowerCase()));
  const why = name === undefined ? undefined : credentialInClear(url, `the ${name.toLowerCase()} header`);
  if (why) throw new HttpTaskError('credential_in_clear', why);
}

function parseUrl(raw: string): URL {
  try {
    const url = new URL(raw);
    if (url.protocol === 'http:' || url.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  throw new HttpTaskError('url_invalid', `invalid url ${JSON.stringify(raw)} (need an http or https URL)`);
}

async function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
  cancel: AbortSignal | undefined,
): Promise<Response> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    return await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      ...(body === undefined ? {} : { body }),
      signal: cancel ? AbortSignal.any([cancel, timeout]) : timeout,
    });
  } catch (error) {
    throw new HttpTaskError(
      'request_failed',
      `${method} ${url.origin}${url.pathname} failed: ${(error as Error).message}`,
    );
  }
}
