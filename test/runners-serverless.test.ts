/**
 * The serverless runner against the real Lambda Runtime Interface Emulator (test/setup/
 * lambda-emulator.ts; its front verifies every SigV4 signature): a function error and the
 * function's own timeout become the task's failure with a named reason, throttling is re-sent with
 * the same idempotency key, a bad signature or an unknown function is a runner error, and the
 * runner's credentials reach no log, stored input or receipt of a real `maestro run`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import type { LogLine, Runner, RunnerHandle, RunnerStartRequest } from '../core/index.ts';
import { openStore } from '../engine/index.ts';
import { RUNNER_FACTORIES } from '../runners/index.ts';
import { captureIo } from './cli-helpers.ts';
import { filesHolding } from './helpers/find-secret.ts';
import { startLambdaEmulator, TEST_CREDENTIALS, type LambdaEmulator } from './setup/lambda-emulator.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
let emulator: LambdaEmulator;
let dir: string;
let seq = 0;

beforeAll(async () => {
  // The function's own timeout (the emulator's) is short, so the timeout case ends quickly.
  emulator = await startLambdaEmulator({ timeoutSeconds: 3 });
  dir = mkdtempSync(join(tmpdir(), 'maestro-serverless-'));
}, 60_000);
afterAll(async () => {
  await emulator?.stop();
});

function runner(extra: Record<string, unknown> = {}): Runner {
  const section = {
    endpoint: emulator.endpoint,
    function: 'function',
    credentialsFile: emulator.credentialsFile,
    concurrency: 1,
    ...extra,
  };
  return RUNNER_FACTORIES.serverless!.create(section, {
    baseEnv: {},
    hiddenPaths: [],
    localSandbox: 'bwrap',
  });
}

function request(script: string, overrides: Partial<RunnerStartRequest> = {}): RunnerStartRequest {
  seq += 1;
  const runId = `sls-${process.pid}-${seq}`;
  return {
    runId,
    taskId: 'deploy',
    attempt: 1,
    attemptId: `${runId}/deploy/1`,
    command: { kind: 'shell', script },
    env: {},
    redact: [],
    workDir: join(dir, runId, 'work'),
    artifactsDir: join(dir, runId, 'artifacts'),
    resources: 'small',
    namespace: 'team-a',
    outputs: [],
    trust: 'trusted',
    ...overrides,
  };
}

async function settle(handle: RunnerHandle) {
  const lines: LogLine[] = [];
  for await (const line of handle.logs()) lines.push(line);
  return { lines, texts: lines.map((l) => l.text), result: await handle.wait() };
}

describe('serverless runner on the Lambda emulator', () => {
  it("a function error fails the task (FunctionError, retryable) with the function's message, secrets redacted", async () => {
    const token = 's3cr3t-fn-token';
    const { result, texts } = await settle(
      await runner().start(request('true', { env: { FN_MODE: 'error', TOKEN: token }, redact: [token] })),
    );
    expect(result).toMatchObject({ outcome: 'failed', reason: 'FunctionError', retryable: true });
    expect(result.message).toBe('DeployError: refused with ***');
    expect(JSON.stringify([texts, result])).not.toContain(token);
  });

  it("the function's own timeout ends the task timed_out (DeadlineExceeded)", async () => {
    const { result } = await settle(await runner().start(request('sleep 30')));
    expect(result).toMatchObject({ outcome: 'timed_out', reason: 'DeadlineExceeded', retryable: true });
    expect(result.message).toMatch(/the function timed out: Task timed out after 3\.00 seconds/);
  }, 30_000);

  it('a response that is not a JSON object fails the task (FunctionResponseInvalid)', async () => {
    const { result } = await settle(await runner().start(request('true', { env: { FN_MODE: 'text' } })));
    expect(result).toMatchObject({ outcome: 'failed', reason: 'FunctionResponseInvalid', retryable: false });
  });

  it('throttling is re-sent with the same event, so the same idempotency key, in the body and the client context', async () => {
    emulator.throttle(1);
    const before = emulator.requests.length;
    const req = request('echo "answer=42" >> "$MAESTRO_OUTPUT"', { outputs: ['answer'] });
    const { result, texts } = await settle(await runner().start(req));
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: { answer: '42' } });
    const sent = emulator.requests.slice(before);
    expect(sent.map((r) => r.refused)).toEqual([429, 0]);
    expect(sent[0]!.body).toBe(sent[1]!.body);
    expect(JSON.parse(sent[1]!.body).idempotencyKey).toBe(req.attemptId);
    const context = JSON.parse(Buffer.from(sent[1]!.headers['x-amz-client-context']!, 'base64').toString());
    expect(context).toEqual({ custom: { 'maestro-idempotency-key': req.attemptId } });
    expect(texts).toContain(
      `function: key ${req.attemptId}, client context key ${req.attemptId}, received 0 artifact(s)`,
    );
    expect(
      texts.some((t) => /HTTP 429; sending the invoke again \(1 of 2, same idempotency key\)/.test(t)),
    ).toBe(true);
  });

  it('a request signed with the wrong secret is refused by the front (InvokeForbidden), and nothing runs', async () => {
    const wrong = join(dir, 'wrong-credentials.json');
    writeFileSync(wrong, JSON.stringify({ ...TEST_CREDENTIALS, SecretAccessKey: 'not-the-secret' }));
    const { result } = await settle(await runner({ credentialsFile: wrong }).start(request('true')));
    expect(result).toMatchObject({ outcome: 'runner_error', reason: 'InvokeForbidden', retryable: false });
    expect(emulator.requests.at(-1)!.refused).toBe(403);
  });

  it('an unknown function is FunctionNotFound; a task with no function mapped is refused before any invoke', async () => {
    const missing = await settle(await runner({ function: 'no-such-function' }).start(request('true')));
    expect(missing.result).toMatchObject({ outcome: 'runner_error', reason: 'FunctionNotFound' });
    const before = emulator.requests.length;
    const unmapped = runner({ function: undefined, functions: { build: 'function' } });
    const { result } = await settle(await unmapped.start(request('true')));
    expect(result).toMatchObject({ outcome: 'runner_error', reason: 'FunctionNotMapped', retryable: false });
    expect(emulator.requests.length).toBe(before);
  });

  it('an untrusted attempt, or one that must have no network, is refused: a function cannot be held to it', async () => {
    for (const overrides of [{ trust: 'untrusted' as const }, { network: 'none' as const }]) {
      const { result } = await settle(await runner().start(request('true', overrides)));
      expect(result).toMatchObject({
        outcome: 'runner_error',
        reason: 'NetworkNotEnforceable',
        retryable: false,
      });
    }
  });

  it('an unreadable credentials file is named, and no byte of it is shown', async () => {
    const broken = join(dir, 'broken-credentials.json');
    writeFileSync(
      broken,
      `{"AccessKeyId": "${TEST_CREDENTIALS.AccessKeyId}", "SecretAccessKey": "${TEST_CREDENTIALS.SecretAccessKey}"`,
    );
    const { result, texts } = await settle(await runner({ credentialsFile: broken }).start(request('true')));
    expect(result).toMatchObject({
      outcome: 'runner_error',
      reason: 'CredentialsUnavailable',
      retryable: false,
    });
    expect(result.message).toContain(broken);
    expect(JSON.stringify([texts, result])).not.toContain(TEST_CREDENTIALS.SecretAccessKey);
    expect(JSON.stringify([texts, result])).not.toContain(TEST_CREDENTIALS.AccessKeyId);
  });
});

describe('maestro run --runner serverless', () => {
  it('runs the quickstart on the function; the credentials are in no log, stored input, receipt, nor event', async () => {
    const config = join(dir, 'runners.yaml');
    writeFileSync(
      config,
      `serverless:\n  endpoint: ${emulator.endpoint}\n  function: function\n  credentialsFile: ${emulator.credentialsFile}\n  concurrency: 1\n`,
    );
    const dataDir = mkdtempSync(join(dir, 'data-'));
    const before = emulator.requests.length;
    const io = captureIo(root, {});
    const code = await runCli(
      [
        'run',
        'examples/quickstart/.maestro/workflows/hello.yaml',
        '--data-dir',
        dataDir,
        '--runner',
        'serverless',
        '--runners',
        config,
      ],
      io,
    );
    expect(code, `${io.out()}\n${io.err()}`).toBe(0);
    expect(io.out()).toContain('Hello, world! (13 characters)');
    const store = openStore({ dataDir });
    try {
      const [summary] = store.listRuns({});
      const attempts = store.listAttempts(summary!.id);
      expect(attempts.find((a) => a.taskId === 'greet')!.outputs).toEqual({ greeting: 'Hello, world!' });
    } finally {
      store.close();
    }
    const events = emulator.requests.slice(before);
    expect(events.length).toBeGreaterThanOrEqual(3);
    for (const secret of Object.values(TEST_CREDENTIALS)) {
      expect(filesHolding(dataDir, secret), `files holding ${secret}`).toEqual([]);
      expect(`${io.out()}${io.err()}`).not.toContain(secret);
      for (const event of events) expect(event.body).not.toContain(secret);
    }
    // The access key id is in each signed request's Credential scope, by design (it is not secret);
    // the session token only in its X-Amz-Security-Token header, which the front checked.
    expect(events.every((e) => e.headers['x-amz-security-token'] === TEST_CREDENTIALS.SessionToken)).toBe(
      true,
    );
  }, 120_000);

  it('hides the credentials file from every task: a local task cannot read it, even inside the installation it sees', async () => {
    // The installation is bound read-only into the sandbox (catalog tasks are code in it), so a
    // credentials file kept there would be readable but for the runtime hiding it.
    const inside = join(root, 'test', 'artifacts', 'serverless');
    mkdirSync(inside, { recursive: true });
    const credentialsFile = join(inside, `credentials-${process.pid}.json`);
    copyFileSync(emulator.credentialsFile, credentialsFile);
    const config = join(dir, 'runners-local.yaml');
    writeFileSync(
      config,
      `serverless:\n  endpoint: ${emulator.endpoint}\n  function: function\n  credentialsFile: ${credentialsFile}\n`,
    );
    const manifest = join(dir, 'steal.yaml');
    writeFileSync(
      manifest,
      `apiVersion: maestro/v1
kind: Workflow
metadata: { name: steal, namespace: demo }
spec:
  defaults: { runner: local, retry: { limit: 0 } }
  tasks:
    - id: steal
      run: echo "got=$(cat ${credentialsFile} 2>/dev/null | tr -d '\\n')" >> "$MAESTRO_OUTPUT"
      outputs: [got]
`,
    );
    const dataDir = mkdtempSync(join(dir, 'data-'));
    const io = captureIo(dir, { PATH: process.env.PATH, HOME: dataDir });
    const code = await runCli(['run', manifest, '--data-dir', dataDir, '--runners', config], io);
    expect(code, `${io.out()}\n${io.err()}`).toBe(0);
    const store = openStore({ dataDir });
    try {
      const [summary] = store.listRuns({});
      expect(store.listAttempts(summary!.id)[0]!.outputs).toEqual({ got: '' });
    } finally {
      store.close();
    }
  }, 60_000);
});
