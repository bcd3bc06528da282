// tasks/http: one HTTP request. Outputs `status` and `bodyDigest`; the body is written to `body` in the
// workspace (the working directory): declare `artifacts: [body]` on the task to keep it.
import { createHash } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { hostAllowed, redirectAllowList } from './egress.ts';

interface Inputs {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  identity?: string;
  timeoutMs?: number;
  failOnStatus?: boolean;
}
const inputs = JSON.parse(process.env.MAESTRO_INPUTS ?? '{}') as Inputs;
let url: URL;
try {
  url = new URL(inputs.url);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
} catch {
  process.stderr.write(`http: invalid url ${JSON.stringify(inputs.url)} (need an http or https URL)\n`);
  process.exit(1);
}
const headers: Record<string, string> = { ...inputs.headers };
if (inputs.identity) headers.authorization = `Bearer ${inputs.identity}`;
const maxRedirects = 10;
let allowList: string[];
try {
  allowList = redirectAllowList(process.env, url.hostname);
} catch (error) {
  process.stderr.write(`http: ${(error as Error).message}\n`);
  process.exit(1);
}
let method = inputs.method ?? 'GET';
let requestBody = inputs.body;
let response: Response;
// Redirects are followed by hand, never by fetch: each hop goes to a host policy did not see.
for (let hop = 0; ; hop++) {
  try {
    response = await fetch(url, {
      method,
      headers,
      redirect: 'manual',
      ...(requestBody === undefined ? {} : { body: requestBody }),
      signal: AbortSignal.timeout(inputs.timeoutMs ?? 30_000),
    });
  } catch (error) {
    process.stderr.write(
      `http: ${method} ${url.origin}${url.pathname} failed: ${(error as Error).message}\n`,
    );
    process.exit(1);
  }
  const location = response.headers.get('location');
  if (![301, 302, 303, 307, 308].includes(response.status) || location === null) break;
  await response.body?.cancel();
  const next = new URL(location, url);
  const refuse = (why: string): never => {
    process.stderr.write(`http: redirect from ${url.origin} to ${next.origin} refused: ${why}\n`);
    process.exit(1);
  };
  if (hop + 1 > maxRedirects) refuse(`more than ${maxRedirects} redirects`);
  if (next.protocol !== 'http:' && next.protocol !== 'https:') refuse(`${next.protocol} is not http(s)`);
  if (!hostAllowed(next.hostname, allowList))
    refuse(`${next.hostname} is not on the outbound allow-list (${allowList.join(', ')})`);
  // A credential is for the origin it was given for; another origin does not get it.
  if (next.origin !== url.origin)
    for (const name of Object.keys(headers))
      if (['authorization', 'cookie', 'proxy-authorization'].includes(name.toLowerCase()))
        delete headers[name];
  // As fetch does: 303 (and 301/302 after a POST) become a GET without a body.
  if (
    response.status === 303 ||
    ((response.status === 301 || response.status === 302) && method === 'POST')
  ) {
    method = method === 'HEAD' ? 'HEAD' : 'GET';
    requestBody = undefined;
  }
  process.stdout.write(`${response.status} ${url.origin}${url.pathname} -> ${next.origin}${next.pathname}\n`);
  url = next;
}
const body = Buffer.from(await response.arrayBuffer());
const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
writeFileSync('body', body);
if (process.env.MAESTRO_OUTPUT)
  appendFileSync(process.env.MAESTRO_OUTPUT, `status=${response.status}\nbodyDigest=${digest}\n`);
process.stdout.write(
  `${method} ${url.origin}${url.pathname} -> ${response.status} (${body.byteLength} bytes, ${digest})\n`,
);
if (response.status >= 400 && inputs.failOnStatus !== false) process.exit(1);
