/**
 * The real AWS Lambda Runtime Interface Emulator (aws-lambda-rie, built by
 * scripts/setup/lambda-rie.sh into ~/.cache/maestro/bin) running test/setup/lambda-function/
 * bootstrap.mjs as its function, on free ports of 127.0.0.1, for one test file.
 *
 * The emulator checks no signature and serves one function, named `function`, one invoke at a
 * time. In front of it sits a small proxy that does what Lambda's front end does and the emulator
 * does not: it verifies each request's SigV4 signature (recomputed from the bytes on the wire with
 * the secret key, which the runner never sends) and answers 403 otherwise. It records what each
 * request carried (never its Authorization header) and can throttle (429) the next requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { freePort } from '../helpers/free-port.ts';
import { waitFor } from '../helpers/wait-for.ts';

const SETUP_HINT = 'run `bash scripts/setup/lambda-rie.sh` (builds aws-lambda-rie into ~/.cache/maestro/bin)';
const BOOTSTRAP = join(import.meta.dirname, 'lambda-function', 'bootstrap.mjs');

/**
 * Test credentials, each part distinctive so a test can look for it anywhere, and made at run time:
 * a literal would be in this file, so in every checkout of this repository that a task's workspace holds.
 */
const nonce = randomBytes(6).toString('hex').toUpperCase();
export const TEST_CREDENTIALS = {
  AccessKeyId: `AKIA${nonce}TEST`,
  SecretAccessKey: `maestro-test-secret-${nonce}-Zq8vT4`,
  SessionToken: `maestro-test-session-${nonce}-Wm2pR7`,
} as const;

export interface SeenRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
  /** What the front answered before passing it on: 403 (bad signature), 429 (throttled), or 0. */
  refused: number;
}

export interface LambdaEmulator {
  /** The Invoke API endpoint (the verifying front). */
  endpoint: string;
  /** A credential_process file with TEST_CREDENTIALS. */
  credentialsFile: string;
  requests: SeenRequest[];
  /** Answer the next `n` invokes with 429 TooManyRequestsException. */
  throttle(n: number): void;
  /** The emulator's (and so the function's) own output so far, for debugging. */
  output(): string;
  stop(): Promise<void>;
}

export function rieBinary(): string {
  const path = join(process.env.GOBIN ?? join(homedir(), '.cache', 'maestro', 'bin'), 'aws-lambda-rie');
  if (!existsSync(path)) throw new Error(`aws-lambda-rie is not installed at ${path}: ${SETUP_HINT}`);
  return path;
}

async function signatureValid(req: IncomingMessage, body: string): Promise<boolean> {
  const auth =
    /Credential=([^/]+)\/\d+\/([^/]+)\/lambda\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(
      req.headers.authorization ?? '',
    );
  const date = req.headers['x-amz-date'];
  if (!auth || typeof date !== 'string' || auth[1] !== TEST_CREDENTIALS.AccessKeyId) return false;
  if (req.headers['x-amz-security-token'] !== TEST_CREDENTIALS.SessionToken) return false;
  const headers: Record<string, string> = {};
  for (const name of auth[3]!.split(';')) headers[name] = String(req.headers[name] ?? '');
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: TEST_CREDENTIALS.AccessKeyId,
      secretAccessKey: TEST_CREDENTIALS.SecretAccessKey,
      sessionToken: TEST_CREDENTIALS.SessionToken,
    },
    region: auth[2]!,
    service: 'lambda',
    sha256: Sha256,
  });
  const when = new Date(date.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const [host, port] = (req.headers.host ?? '').split(':');
  const signed = await signer.sign(
    {
      method: req.method!,
      protocol: 'http:',
      hostname: host!,
      ...(port ? { port: Number(port) } : {}),
      path: req.url!,
      query: {},
      headers,
      body,
    },
    { signingDate: when },
  );
  return String(signed.headers.authorization).endsWith(`Signature=${auth[4]}`);
}

function front(target: number, seen: SeenRequest[], throttled: { n: number }): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const { authorization: _auth, ...headers } = req.headers as Record<string, string>;
      const record: SeenRequest = { path: req.url ?? '', headers, body, refused: 0 };
      seen.push(record);
      if (!(await signatureValid(req, body))) {
        record.refused = 403;
        res.writeHead(403, { 'content-type': 'application/json' });
        return res.end(
          '{"message":"The request signature we calculated does not match the signature you provided."}',
        );
      }
      if (throttled.n > 0) {
        throttled.n -= 1;
        record.refused = 429;
        res.writeHead(429, { 'content-type': 'application/json' });
        return res.end('{"Type":"User","message":"Rate Exceeded."}');
      }
      const upstream = httpRequest(
        {
          host: '127.0.0.1',
          port: target,
          method: 'POST',
          path: req.url,
          headers: { 'x-amz-client-context': headers['x-amz-client-context'] ?? '' },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      upstream.end(body);
    });
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

export async function startLambdaEmulator(options: { timeoutSeconds: number }): Promise<LambdaEmulator> {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-lambda-'));
  const credentialsFile = join(dir, 'credentials.json');
  writeFileSync(credentialsFile, JSON.stringify({ Version: 1, ...TEST_CREDENTIALS }), { mode: 0o600 });
  const [invokePort, runtimePort] = [await freePort(), await freePort()];
  let out = '';
  const child: ChildProcess = spawn(
    rieBinary(),
    [
      '--runtime-interface-emulator-address',
      `127.0.0.1:${invokePort}`,
      '--runtime-api-address',
      `127.0.0.1:${runtimePort}`,
      process.execPath,
      BOOTSTRAP,
    ],
    {
      cwd: dir,
      // The function's environment is the emulator's: only what a function would have.
      env: { PATH: '/usr/bin:/bin', AWS_LAMBDA_FUNCTION_TIMEOUT: String(options.timeoutSeconds), HOME: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const keep = (chunk: Buffer) => void (out = (out + chunk.toString('utf8')).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  await waitFor(
    `aws-lambda-rie listening on ${invokePort}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`aws-lambda-rie exited (${child.exitCode}): ${out}`);
      return (await listening(invokePort)) || undefined;
    },
    { timeoutMs: 30_000 },
  );
  const requests: SeenRequest[] = [];
  const throttled = { n: 0 };
  const server = front(invokePort, requests, throttled);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    credentialsFile,
    requests,
    throttle: (n) => void (throttled.n = n),
    output: () => out,
    async stop() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
