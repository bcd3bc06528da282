// tasks/http: one HTTP request. Outputs `status` and `bodyDigest`; the body goes to $MAESTRO_ARTIFACTS/body.
import { createHash } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

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
let response: Response;
try {
  response = await fetch(url, {
    method: inputs.method ?? 'GET',
    headers,
    ...(inputs.body === undefined ? {} : { body: inputs.body }),
    signal: AbortSignal.timeout(inputs.timeoutMs ?? 30_000),
  });
} catch (error) {
  process.stderr.write(
    `http: ${inputs.method ?? 'GET'} ${url.origin}${url.pathname} failed: ${(error as Error).message}\n`,
  );
  process.exit(1);
}
const body = Buffer.from(await response.arrayBuffer());
const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
if (process.env.MAESTRO_ARTIFACTS) writeFileSync(join(process.env.MAESTRO_ARTIFACTS, 'body'), body);
if (process.env.MAESTRO_OUTPUT)
  appendFileSync(process.env.MAESTRO_OUTPUT, `status=${response.status}\nbodyDigest=${digest}\n`);
process.stdout.write(
  `${inputs.method ?? 'GET'} ${url.origin}${url.pathname} -> ${response.status} (${body.byteLength} bytes, ${digest})\n`,
);
if (response.status >= 400 && inputs.failOnStatus !== false) process.exit(1);
