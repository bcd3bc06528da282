/**
 * One call of the AWS Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`), signed
 * with SigV4 by @smithy/signature-v4 (the AWS SDK's own signer: the full client-lambda would bring
 * a second copy of the SDK's middleware stack for one request), re-sent on throttling, a 5xx or a
 * broken connection with the same body, so the same idempotency key (at least once).
 */
import { readFileSync } from 'node:fs';
import type { ServerlessRunnerConfig } from './config.ts';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Why the credentials file could not be used; says which file, never a byte of what it holds. */
export class CredentialsUnavailable extends Error {}

/**
 * Reads the `credential_process` JSON file. JSON.parse's own message quotes the text it choked on
 * (a key, possibly), so it is never passed on.
 */
export function readCredentials(file: string): Credentials {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new CredentialsUnavailable(
      `serverless credentials file ${file} ${missing ? 'does not exist' : 'is not readable JSON'}`,
    );
  }
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  if (typeof d.AccessKeyId !== 'string' || typeof d.SecretAccessKey !== 'string' || d.AccessKeyId === '')
    throw new CredentialsUnavailable(
      `serverless credentials file ${file} lacks AccessKeyId or SecretAccessKey (the credential_process format)`,
    );
  return {
    accessKeyId: d.AccessKeyId,
    secretAccessKey: d.SecretAccessKey,
    ...(typeof d.SessionToken === 'string' && d.SessionToken !== '' ? { sessionToken: d.SessionToken } : {}),
  };
}

/** The secret parts, for the redactor every line and message passes through. */
export function secretsOf(credentials: Credentials): string[] {
  return [credentials.secretAccessKey, credentials.sessionToken ?? ''].filter((s) => s !== '');
}

export interface InvokeResponse {
  status: number;
  /** `X-Amz-Function-Error` (`Unhandled`, `Handled`), when the function failed. */
  functionError?: string;
  /** `X-Amz-Log-Result`: the base64 tail of the function's log (Lambda; the emulator sends none). */
  logResult?: string;
  body: string;
}

export interface InvokeCall {
  functionName: string;
  payload: string;
  /** Lambda's ClientContext (base64 JSON on the wire; at most 3,583 bytes encoded). */
  clientContext: Record<string, unknown>;
  signal: AbortSignal;
}

async function signedRequest(config: ServerlessRunnerConfig, credentials: Credentials, call: InvokeCall) {
  const url = new URL(
    `${config.endpoint}/2015-03-31/functions/${encodeURIComponent(call.functionName)}/invocations`,
  );
  // The SigV4 signer loads with the first invoke: every local run imports runners/, few sign.
  const [{ Sha256 }, { SignatureV4 }] = await Promise.all([
    import('@smithy/core/checksum'),
    import('@smithy/signature-v4'),
  ]);
  const signer = new SignatureV4({ credentials, region: config.region, service: 'lambda', sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path: url.pathname,
    query: {},
    headers: {
      host: url.host,
      'content-type': 'application/json',
      'x-amz-invocation-type': 'RequestResponse',
      'x-amz-log-type': 'Tail',
      'x-amz-client-context': Buffer.from(JSON.stringify(call.clientContext)).toString('base64'),
    },
    body: call.payload,
  });
  // fetch sets Host itself, from the same URL the signature covers.
  const { host: _host, ...headers } = signed.headers;
  return { url, headers };
}

async function invokeOnce(config: ServerlessRunnerConfig, call: InvokeCall): Promise<InvokeResponse> {
  const credentials = readCredentials(config.credentialsFile);
  const { url, headers } = await signedRequest(config, credentials, call);
  const response = await fetch(url, { method: 'POST', headers, body: call.payload, signal: call.signal });
  const functionError = response.headers.get('x-amz-function-error');
  const logResult = response.headers.get('x-amz-log-result');
  return {
    status: response.status,
    ...(functionError ? { functionError } : {}),
    ...(logResult ? { logResult } : {}),
    body: await response.text(),
  };
}

/** Throttled or the service failed: the same invoke may succeed when sent again. */
const RESEND = new Set([429, 500, 502, 503, 504]);

/** A broken connection, not an abort (the deadline or a cancel) nor a credentials problem. */
function isTransport(error: unknown, signal: AbortSignal): boolean {
  return !signal.aborted && error instanceof TypeError;
}

/**
 * Invokes, re-sending up to `config.retries` times with exponential backoff and jitter. Each
 * re-send is the same payload: the function may already have run it (at least once), and the
 * idempotency key inside lets it tell. `onResend` is told why, for the attempt's log.
 */
export async function invoke(
  config: ServerlessRunnerConfig,
  call: InvokeCall,
  onResend: (why: string) => void,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<InvokeResponse> {
  for (let sent = 0; ; sent++) {
    let why: string;
    try {
      const response = await invokeOnce(config, call);
      if (!RESEND.has(response.status) || sent >= config.retries) return response;
      why = `HTTP ${response.status}`;
    } catch (error) {
      if (!isTransport(error, call.signal) || sent >= config.retries) throw error;
      why = 'the connection failed';
    }
    onResend(`${why}; sending the invoke again (${sent + 1} of ${config.retries}, same idempotency key)`);
    await sleep(Math.round(200 * 2 ** sent * (0.5 + Math.random())));
    if (call.signal.aborted) throw call.signal.reason;
  }
}
