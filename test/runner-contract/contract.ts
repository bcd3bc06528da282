/**
 * The runner contract (docs/runners.md, "The runner contract"), written once and run against
 * every runner through the Runner port the engine calls: outputs in both forms, artifacts,
 * redaction of a multi-line secret, exit codes, timeout, cancel, and a kill of the engine.
 * Where a runner's tasks cannot execute here (Kubernetes: kwok plays the kubelet) the task is
 * simulated by kwok Stages, and what only execution could show is replaced by a named, reduced
 * assertion ("not executable here: ...") that still fails if the runner lacks the feature.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine, RunnerHandle, RunnerStartRequest } from '../../core/index.ts';
import { runMain } from '../../sdk/index.ts';
import { killEngineMidAttempt } from './engine-kill.ts';
import { PYTHON_CASE, pythonSdkRequest } from './python-sdk-case.ts';
import { reporter } from './sdk-task.ts';
import type { ContractTarget } from './target.ts';

async function collect(handle: RunnerHandle): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of handle.logs()) lines.push(line);
  return lines;
}

/** Reads log lines until the first one (the task is running), keeping the iterator for the rest. */
async function firstLine(handle: RunnerHandle) {
  const iterator = handle.logs()[Symbol.asyncIterator]();
  const first = await iterator.next();
  const rest = (async () => {
    const lines: LogLine[] = first.done ? [] : [first.value];
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) lines.push(next.value);
    return lines;
  })();
  return { first: first.done ? undefined : first.value, rest };
}

const SDK_TASK = join(import.meta.dirname, 'sdk-task.ts');
const SDK_CASE = {
  node: 'the task runs as itself, under Node',
  shell:
    "the test image has no Node: the SDK's messages, made by runMain in the test, are written by the task's shell",
  simulated:
    "not executable here, and Kubernetes does not set $MAESTRO_MESSAGES yet: the SDK's fallback into $MAESTRO_OUTPUT, made by runMain in the test, is the termination message",
} as const;

/** What the SDK task writes, run in-process through runMain: its messages file, or its outputs file. */
async function sdkReport(inputs: unknown, token: string, messagesFile: boolean): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-contract-sdk-'));
  try {
    const file = join(dir, 'report');
    writeFileSync(file, '');
    const env = {
      MAESTRO_INPUTS: JSON.stringify(inputs),
      TOKEN: token,
      ...(messagesFile ? { MAESTRO_MESSAGES: file } : { MAESTRO_OUTPUT: file }),
    };
    const code = await runMain(reporter, env, { onTerminate: () => {}, stderr: () => {}, stdout: () => {} });
    process.exitCode = 0;
    expect(code).toBe(0);
    return readFileSync(file, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the SDK case's task reports, in TypeScript or Python: outputs, and logs with the secret redacted. */
async function expectReported(target: ContractTarget, req: RunnerStartRequest, token: string): Promise<void> {
  const handle = await target.runner().start(req);
  const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
  expect(result).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
  expect(result.outputs).toEqual({ answer: '42', notes: 'line one\nline=two' });
  expect(JSON.stringify([lines, result])).not.toContain(token);
  if (target.messagesFile) {
    const texts = lines.map((l) => `${l.stream}: ${l.text}`);
    expect(texts).toEqual(
      expect.arrayContaining([
        'stdout: reporting 42 with ***',
        'system: metric rows=3',
        'system: messages: 1 heartbeat(s) received',
      ]),
    );
  }
}

const OUTPUTS_TEXT = 'answer=42\nnotes<<EOF\nline one\nline=two\nEOF\nundeclared=dropped\n';

export function runnerContract(target: ContractTarget): void {
  describe(`runner contract: ${target.kind}`, () => {
    beforeAll(() => target.setup(), 300_000);
    afterAll(() => target.teardown());

    it('outputs: key=value lines and the key<<DELIMITER multi-line form; only declared names kept', async () => {
      // On kwok the task's writing of the file is simulated (the termination message); the
      // runner's reading and parsing of it is the real code.
      const req = target.request(
        {
          script: `cat >> "$MAESTRO_OUTPUT" <<'OUT'\n${OUTPUTS_TEXT}OUT`,
          sim: { SIM_RUN_FOR: '300ms', SIM_TERMINATION_MESSAGE: OUTPUTS_TEXT },
        },
        { outputs: ['answer', 'notes'] },
      );
      const result = await (await target.runner().start(req)).wait();
      expect(result).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
      expect(result.outputs).toEqual({ answer: '42', notes: 'line one\nline=two' });
    });

    it.runIf(target.messagesFile)(
      'state: a checkpoint is handed in as the file $MAESTRO_STATE names; the last state the task emits comes back',
      async () => {
        const state = (n: number) =>
          `printf '%s\\n' '{"v":1,"type":"state","value":{"cursor":${n}}}' >> "$MAESTRO_MESSAGES"`;
        const script = ['echo "from=$(cat "$MAESTRO_STATE")" >> "$MAESTRO_OUTPUT"', state(600), state(700)];
        const req = target.request(
          { script: script.join('\n'), sim: {} },
          { outputs: ['from'], state: '{"cursor":500}' },
        );
        const handle = await target.runner().start(req);
        const [, result] = await Promise.all([collect(handle), handle.wait()]);
        expect(result).toMatchObject({ outcome: 'succeeded', outputs: { from: '{"cursor":500}' } });
        expect(result.state).toBe('{"cursor":700}');
      },
    );

    it(`messages: a task written with the SDK reports its outputs and redacted logs (${SDK_CASE[target.sdkTask]})`, async () => {
      const inputs = { answer: '42' };
      const token = 's3cr3t-sdk-token';
      const overrides = { outputs: ['answer', 'notes'], redact: [token], env: { TOKEN: token } };
      let req;
      if (target.sdkTask === 'node') {
        req = target.request({ script: '', sim: {} }, overrides);
        req.command = { kind: 'argv', argv: [process.execPath, SDK_TASK] };
        req.env.MAESTRO_INPUTS = JSON.stringify(inputs);
      } else {
        // The SDK's own bytes, made by runMain here, as the runner's file or the termination message.
        const made = await sdkReport(inputs, token, target.messagesFile);
        const variable = target.messagesFile ? 'MAESTRO_MESSAGES' : 'MAESTRO_OUTPUT';
        req = target.request(
          {
            script: `cat >> "$${variable}" <<'SDK_REPORT'\n${made}SDK_REPORT`,
            sim: { SIM_RUN_FOR: '300ms', SIM_TERMINATION_MESSAGE: made },
          },
          overrides,
        );
      }
      await expectReported(target, req, token);
    });

    it(`messages: a task written with the Python SDK reports the same (${PYTHON_CASE[target.sdkTask]})`, async () => {
      const token = 's3cr3t-py-sdk-token';
      const overrides = { outputs: ['answer', 'notes'], redact: [token], env: { TOKEN: token } };
      await expectReported(target, await pythonSdkRequest(target, { answer: '42' }, token, overrides), token);
    });

    if (target.artifactsInEvent)
      it('artifacts (a function shares no disk with the engine): refused without an object store; with one, the received artifacts reach the function in its event, their URLs never in the log', async () => {
        const refusedReq = target.request({ script: 'echo never', sim: {} });
        mkdirSync(join(refusedReq.artifactsDir, 'build'), { recursive: true });
        writeFileSync(join(refusedReq.artifactsDir, 'build', 'report.txt'), 'from-upstream\n');
        expect(await (await target.runner().start(refusedReq)).wait()).toMatchObject({
          outcome: 'runner_error',
          reason: 'ArtifactsNeedObjectStore',
          retryable: false,
        });
        const url = 'http://127.0.0.1:9/bucket/build/report.txt?X-Amz-Signature=capability-0123';
        const req = target.request(
          { script: 'echo ran', sim: {} },
          {
            received: [
              { path: 'build/report.txt', digest: `sha256:${'0'.repeat(64)}`, executable: false, url },
            ],
          },
        );
        mkdirSync(join(req.artifactsDir, 'build'), { recursive: true });
        writeFileSync(join(req.artifactsDir, 'build', 'report.txt'), 'from-upstream\n');
        const handle = await target.runner().start(req);
        const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
        expect(result.outcome).toBe('succeeded');
        expect(lines.map((l) => l.text).join('\n')).toContain('received 1 artifact(s)');
        expect(JSON.stringify([lines, result])).not.toContain('capability-0123');
      });
    else if (target.executes)
      it('artifacts: received ones readable and read-only under $MAESTRO_ARTIFACTS; what the task writes in its workspace reaches the host', async () => {
        const req = target.request({
          script: [
            'cat "$MAESTRO_ARTIFACTS/build/report.txt"',
            '(echo x > "$MAESTRO_ARTIFACTS/build/report.txt") 2>/dev/null && echo inputs=writable || echo inputs=readonly',
            'mkdir -p dist && echo built > dist/app.bin',
          ].join('\n'),
          sim: {},
        });
        mkdirSync(join(req.artifactsDir, 'build'), { recursive: true });
        writeFileSync(join(req.artifactsDir, 'build', 'report.txt'), 'from-upstream\n', { mode: 0o644 });
        const handle = await target.runner().start(req);
        const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
        expect(result.outcome).toBe('succeeded');
        expect(lines.map((l) => l.text)).toEqual(
          expect.arrayContaining(['from-upstream', 'inputs=readonly']),
        );
        expect(readFileSync(join(req.artifactsDir, 'build', 'report.txt'), 'utf8')).toBe('from-upstream\n');
        expect(readFileSync(join(req.workDir, 'dist', 'app.bin'), 'utf8')).toBe('built\n');
      });
    else
      it('artifacts (not executable here: kwok runs no container): the Job mounts a volume at $MAESTRO_ARTIFACTS; its keep sidecar, run on the host from the Job and Secret the API server holds, uploads the declared paths, which the engine reads back', async () => {
        const req = target.request({
          script: 'mkdir -p dist && echo built > dist/app.bin && echo no > undeclared.txt',
          sim: { SIM_RUN_FOR: '5s' },
        });
        req.keep = await target.keptUpload!.keep(req, ['dist']);
        const handle = await target.runner().start(req);
        const spec = await target.jobSpec!(req);
        expect(spec).toMatchObject({
          artifactsEnv: '/maestro/artifacts',
          artifactsMount: '/maestro/artifacts',
          keepSidecar: { restartPolicy: 'Always', workReadOnly: true, urlFromSecret: true },
          urlInJob: false,
        });
        // What the task's script would have left in its workspace, then the sidecar's real script.
        const kept = await target.keptUpload!.runSidecar(req, {
          'dist/app.bin': 'built\n',
          'undeclared.txt': 'no\n',
        });
        expect(kept).toEqual({ 'dist/app.bin': 'built\n' });
        expect((await handle.wait()).outcome).toBe('succeeded');
      });

    it('redaction: every line of a three-line PEM-like secret, on stdout and stderr, becomes ***', async () => {
      // kwok's canned container log prints the same PEM and token (test/setup/k8s-cluster.ts); the
      // log's path through the API server and the runner's redactor are real.
      const req = target.request(
        {
          script: [
            'echo "compiling 3 packages"',
            'echo "warning: using token $TOKEN from env" >&2',
            'echo "$PEM"',
            'printf "%s\\n" "$PEM" >&2',
            'echo done',
          ].join('\n'),
          sim: { SIM_RUN_FOR: '2s' },
        },
        { env: { PEM: target.pem, TOKEN: 's3cr3t-token' }, redact: [target.pem, 's3cr3t-token'] },
      );
      const handle = await target.runner().start(req);
      const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
      expect(result.outcome).toBe('succeeded');
      const texts = lines.map((l) => l.text);
      expect(texts).toContain('done');
      expect(texts).toContain('warning: using token *** from env');
      for (const secretLine of [...target.pem.split('\n'), 's3cr3t-token'])
        expect(JSON.stringify([lines, result])).not.toContain(secretLine);
      expect(texts.filter((t) => t === '***').length).toBeGreaterThanOrEqual(3);
    });

    it("exit codes: 0 is succeeded; non-zero is failed with that code, retryable (the task's retry policy decides)", async () => {
      const runner = target.runner();
      const ok = await runner.start(target.request({ script: 'exit 0', sim: { SIM_RUN_FOR: '200ms' } }));
      const bad = await runner.start(
        target.request({ script: 'echo bad >&2; exit 3', sim: { SIM_RUN_FOR: '200ms', SIM_EXIT_CODE: '3' } }),
      );
      expect(await ok.wait()).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
      expect(await bad.wait()).toMatchObject({
        outcome: 'failed',
        exitCode: 3,
        retryable: true,
        reason: 'NonZeroExit',
      });
    });

    it('timeout: the attempt is stopped and reported timed_out (retryable), and nothing of it still runs', async () => {
      const req = target.request(
        { script: 'echo started; sleep 60', sim: { SIM_RUN_FOR: '1h' } },
        { timeoutMs: 2000 },
      );
      const result = await (await target.runner().start(req)).wait();
      expect(result).toMatchObject({ outcome: 'timed_out', reason: 'DeadlineExceeded', retryable: true });
      await target.gone(req);
    });

    it('cancel: a running attempt ends cancelled (reason Cancelled) with the reason given, and nothing of it still runs', async () => {
      const req = target.request({
        script: 'echo ready; while true; do sleep 0.1; done',
        sim: { SIM_RUN_FOR: '1h' },
      });
      const handle = await target.runner().start(req);
      const { first, rest } = await firstLine(handle);
      expect(first).toBeDefined();
      await handle.cancel('user asked', 1000);
      await rest;
      expect(await handle.wait()).toMatchObject({
        outcome: 'cancelled',
        reason: 'Cancelled',
        message: 'user asked',
        retryable: false,
      });
      await target.gone(req);
    });

    if (target.afterEngineKill === 'reattached')
      it('engine killed mid-attempt: the attempt outlives it; a new engine re-attaches, redacting its log and keeping declared outputs', async () => {
        const { request, witness } = await killEngineMidAttempt(
          target,
          {
            script:
              'echo ready; sleep 4; echo "$PEM"; printf "answer=after-kill\\nundeclared=x\\n" >> "$MAESTRO_OUTPUT"' +
              // Where the runner sets it, the messages file is read on re-attach too (from the mount).
              (target.messagesFile
                ? `; printf '%s\\n' '{"v":1,"type":"log","message":"after kill"}' >> "$MAESTRO_MESSAGES"`
                : ''),
            sim: { SIM_RUN_FOR: '4s', SIM_TERMINATION_MESSAGE: 'answer=after-kill\nundeclared=x' },
          },
          { PEM: target.pem },
        );
        await witness.close();
        expect(await target.alive(request), 'the attempt outlived its engine').toBe(true);
        const runner = target.runner();
        // What engine/recover-run.ts passes: every secret of the run, the task's declared outputs.
        const handle = await runner.reattach!(request, { redact: [target.pem], outputs: ['answer'] });
        expect(handle, 'reattach found the attempt').toBeDefined();
        const [lines, result] = await Promise.all([collect(handle!), handle!.wait()]);
        expect(result).toMatchObject({ outcome: 'succeeded', outputs: { answer: 'after-kill' } });
        expect(result.outputs).toEqual({ answer: 'after-kill' });
        for (const secretLine of target.pem.split('\n'))
          expect(JSON.stringify(lines)).not.toContain(secretLine);
        if (target.messagesFile)
          expect(lines.map((l) => `${l.stream}: ${l.text}`)).toContain('stdout: after kill');
        await target.gone(request);
        const unknown = { ...request, runId: 'never-started', attemptId: 'never-started/task/1' };
        expect(await runner.reattach!(unknown)).toBeUndefined();
      });
    else
      it(
        target.afterEngineKill === 'dies-with-engine'
          ? 'engine killed mid-attempt: the task dies with it (its process is gone) and a new attempt runs'
          : 'engine killed mid-attempt (a function cannot be stopped nor re-attached): it runs until its own timeout ends it, and a new attempt runs',
        async () => {
          const { request, witness } = await killEngineMidAttempt(target, {
            script: 'echo ready; while true; do echo beat | $REPORT >/dev/null; sleep 0.1; done',
            sim: {},
          });
          try {
            await target.gone(request);
            const beats = witness.reports('beat').length;
            await new Promise((r) => setTimeout(r, 1000));
            expect(witness.reports('beat').length, 'no heartbeat after the process is gone').toBe(beats);
            const runner = target.runner();
            // Nothing to re-attach to: the engine closes attempt 1 as interrupted and starts attempt 2.
            expect(await runner.reattach?.(request)).toBeUndefined();
            const next = { ...request, attempt: 2, attemptId: request.attemptId.replace(/\/1$/, '/2') };
            next.command = { kind: 'shell', script: 'echo "answer=second" >> "$MAESTRO_OUTPUT"' };
            next.outputs = ['answer'];
            expect(await (await runner.start(next)).wait()).toMatchObject({
              outcome: 'succeeded',
              outputs: { answer: 'second' },
            });
          } finally {
            await witness.close();
          }
        },
        60_000,
      );
  });
}
