/**
 * The container runner against real Podman (Docker-compatible API) running real containers from
 * the locally imported busybox image. No mocks: every assertion observes a real container.
 * What every runner must do (outputs, artifacts, redaction, exit codes, timeout, cancel, engine
 * kill and re-attach) is checked by the runner contract suite (test/runner-contract/); this file
 * keeps what is the container runner's own (security settings, cgroup limits, argv, images).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine, Runner, RunnerStartRequest } from '../core/index.ts';
import { createContainerRunner } from '../runners/container/index.ts';
import { ensurePodmanService, TEST_IMAGE, type PodmanService } from './setup/podman-service.ts';

/** A PEM-like secret of three lines, with a quote and a backslash in the middle one. */
const PEM_SECRET =
  '-----BEGIN PRIVATE KEY-----\nMIIEvQ"quote"\\back+slash/AbCdEf0123\n-----END PRIVATE KEY-----';

let service: PodmanService;
let runner: Runner;
let docker: Docker;
const dirs: string[] = [];

beforeAll(async () => {
  service = await ensurePodmanService();
  docker = new Docker({ socketPath: service.socketPath });
  runner = createContainerRunner({
    socketPath: service.socketPath,
    defaultImage: TEST_IMAGE,
    stopGraceMs: 2000,
    resourceClasses: {
      small: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pids: 64 },
      tiny: { memoryBytes: 16 * 1024 * 1024 },
    },
  });
});

afterAll(async () => {
  await service?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

let counter = 0;
function request(overrides: Partial<RunnerStartRequest>): RunnerStartRequest {
  const root = mkdtempSync(join(tmpdir(), 'maestro-ctr-'));
  dirs.push(root);
  counter += 1;
  const attemptId = `run-${process.pid}-${counter}/task/1`;
  return {
    runId: `run-${process.pid}-${counter}`,
    taskId: 'task',
    attempt: 1,
    attemptId,
    command: { kind: 'shell', script: 'true' },
    env: {},
    redact: [],
    workDir: join(root, 'work'),
    artifactsDir: join(root, 'artifacts'),
    resources: 'small',
    namespace: 'default',
    outputs: [],
    ...overrides,
  };
}

async function collect(logs: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of logs) lines.push(line);
  return lines;
}

async function containersOf(attemptId: string) {
  return docker.listContainers({ all: true, filters: { label: [`maestro.dev/attempt-id=${attemptId}`] } });
}

describe('container runner on Podman', () => {
  it('runs a shell task as non-root with no capabilities, streams demuxed logs, collects outputs and artifacts, and removes the container', async () => {
    const req = request({
      command: {
        kind: 'shell',
        script: [
          'echo "uid=$(id -u)"',
          'grep CapEff /proc/self/status',
          'echo "greeting=$GREETING" >&2',
          'echo "secret is $TOKEN"',
          'touch /probe 2>/dev/null && echo rootfs=writable || echo rootfs=readonly',
          'echo "cwd=$(pwd) repo=$(cat src.txt)"',
          'echo built > result.txt',
          'rm src.txt && echo replaced > src.txt',
          '(echo x > "$MAESTRO_ARTIFACTS/sneak") 2>/dev/null && echo inputs=writable || echo inputs=readonly',
          'echo "answer=42" >> "$MAESTRO_OUTPUT"',
          'echo "undeclared=x" >> "$MAESTRO_OUTPUT"',
        ].join('\n'),
      },
      env: { GREETING: 'hello; $(rm -rf /)', TOKEN: 's3cr3t-value' },
      redact: ['s3cr3t-value'],
      outputs: ['answer'],
    });
    // The workspace holds a sealed, read-only source file (as the engine's layer makes it).
    mkdirSync(req.workDir, { recursive: true });
    writeFileSync(join(req.workDir, 'src.txt'), 'from-repo\n', { mode: 0o444 });
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle.logs()), handle.wait()]);
    expect(result.outcome).toBe('succeeded');
    expect(result.exitCode).toBe(0);
    expect(result.outputs).toEqual({ answer: '42' });
    // No trust given: the one network rule fails closed, and the result (the receipt) says so.
    expect(result.isolation).toEqual({ sandbox: 'container', network: 'none' });
    const stdout = lines.filter((l) => l.stream === 'stdout').map((l) => l.text);
    const stderr = lines.filter((l) => l.stream === 'stderr').map((l) => l.text);
    expect(stdout).toContain('uid=1000');
    expect(stdout).toContain('CapEff:\t0000000000000000');
    expect(stdout).toContain('rootfs=readonly');
    expect(stdout).toContain('secret is ***');
    expect(stderr).toEqual(['greeting=hello; $(rm -rf /)']);
    // The task works in the mounted workspace; what it receives under $MAESTRO_ARTIFACTS is read-only.
    expect(stdout).toContain('cwd=/workspace repo=from-repo');
    expect(stdout).toContain('inputs=readonly');
    expect(readFileSync(join(req.workDir, 'result.txt'), 'utf8')).toBe('built\n');
    expect(readFileSync(join(req.workDir, 'src.txt'), 'utf8')).toBe('replaced\n');
    expect(await containersOf(req.attemptId)).toEqual([]);
  });

  it('passes argv as data, not through a shell', async () => {
    const req = request({ command: { kind: 'argv', argv: ['/bin/echo', 'a b', '$HOME', ';', 'ls'] } });
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle.logs()), handle.wait()]);
    expect(result.outcome).toBe('succeeded');
    expect(lines.map((l) => l.text)).toEqual(['a b $HOME ; ls']);
  });

  it('applies the resource class limits to the real cgroup', async () => {
    const handle = await runner.start(
      request({
        command: {
          kind: 'shell',
          script:
            'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes',
        },
      }),
    );
    const [lines, result] = await Promise.all([collect(handle.logs()), handle.wait()]);
    expect(result.outcome).toBe('succeeded');
    expect(lines.map((l) => l.text)).toContain(String(64 * 1024 * 1024));
  });

  it('cancel sends SIGTERM first (the task can clean up), then removes the container', async () => {
    const req = request({
      command: {
        kind: 'shell',
        script: 'trap "echo got-term; exit 0" TERM; echo ready; while true; do sleep 0.1; done',
      },
    });
    const handle = await runner.start(req);
    const lines: LogLine[] = [];
    const iterator = handle.logs()[Symbol.asyncIterator]();
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      lines.push(next.value);
      if (next.value.text === 'ready') break;
    }
    await handle.cancel('user asked', 5000);
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      lines.push(next.value);
    }
    const result = await handle.wait();
    expect(result.outcome).toBe('cancelled');
    expect(result.message).toBe('user asked');
    expect(lines.map((l) => l.text)).toContain('got-term');
    expect(await containersOf(req.attemptId)).toEqual([]);
  });

  it('cancel kills a task that ignores SIGTERM after the grace period', async () => {
    const handle = await runner.start(
      request({
        command: { kind: 'shell', script: 'trap "" TERM; echo ready; while true; do sleep 0.1; done' },
      }),
    );
    for await (const line of handle.logs()) if (line.text === 'ready') break;
    await handle.cancel('stop now', 1000);
    const result = await handle.wait();
    expect(result.outcome).toBe('cancelled');
    expect(result.exitCode).toBe(137);
  });

  it('reports a missing image as a non-retryable runner error', async () => {
    const handle = await runner.start(
      request({ command: { kind: 'container', image: 'localhost/does-not-exist:1' } }),
    );
    const result = await handle.wait();
    expect(result).toMatchObject({ outcome: 'runner_error', reason: 'ImageNotFound', retryable: false });
  });

  it('refuses an unknown resource class and a root user in config', async () => {
    const handle = await runner.start(request({ resources: 'huge' }));
    expect(await handle.wait()).toMatchObject({ outcome: 'runner_error', reason: 'UnknownResourceClass' });
    expect(() =>
      createContainerRunner({
        socketPath: service.socketPath,
        defaultImage: TEST_IMAGE,
        user: '0:0',
        resourceClasses: {},
      }),
    ).toThrow(/must not be root/);
  });

  it('redacts every line of a multi-line (PEM) secret, also when it arrives split across writes', async () => {
    const pem = PEM_SECRET;
    const [first, second] = [pem.slice(0, 40), pem.slice(40)];
    const req = request({
      command: {
        kind: 'shell',
        script: [
          'echo "$PEM"',
          'printf "%s\\n" "$PEM" >&2',
          // Half of the secret, a pause (a separate chunk on the wire), then the rest.
          `printf '%s' "$FIRST"; sleep 0.3; printf '%s\\n' "$SECOND"`,
          'echo "done"',
        ].join('\n'),
      },
      env: { PEM: pem, FIRST: first, SECOND: second },
      redact: [pem],
    });
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle.logs()), handle.wait()]);
    expect(result.outcome).toBe('succeeded');
    const text = lines.map((l) => l.text).join('\n');
    expect(text).toContain('done');
    for (const line of pem.split('\n')) expect(text).not.toContain(line);
    expect(lines.filter((l) => l.text === '***').length).toBeGreaterThanOrEqual(9);
  });

  it('refuses an outputs file the container replaced with a symlink to a host file (no host file is read)', async () => {
    const req = request({ outputs: ['stolen'] });
    // A host file the engine can read and the container cannot see: what the link points at.
    const hostFile = join(req.workDir, '..', 'host-secret.env');
    writeFileSync(hostFile, 'stolen=hunter2-host-secret\n');
    req.command = {
      kind: 'shell',
      script: `rm -f "$MAESTRO_OUTPUT" && ln -s ${JSON.stringify(hostFile)} "$MAESTRO_OUTPUT" && echo linked`,
    };
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle.logs()), handle.wait()]);
    expect(lines.map((l) => l.text)).toContain('linked');
    expect(JSON.stringify(result)).not.toContain('hunter2');
    expect(result).toMatchObject({ outcome: 'failed', reason: 'OutputsFileRefused', outputs: {} });
    expect(lines.some((l) => l.stream === 'system' && /symbolic link/.test(l.text))).toBe(true);
  });
  it('refuses a messages file the container replaced with a symlink to a host file, and one over the size cap', async () => {
    const req = request({ outputs: ['stolen'] });
    const hostFile = join(req.workDir, '..', 'host-secret.jsonl');
    writeFileSync(
      hostFile,
      `${JSON.stringify({ v: 1, type: 'output', name: 'stolen', value: 'hunter2-host' })}\n`,
    );
    req.command = {
      kind: 'shell',
      script: `rm -f "$MAESTRO_MESSAGES" && ln -s ${JSON.stringify(hostFile)} "$MAESTRO_MESSAGES" && echo linked`,
    };
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle.logs()), handle.wait()]);
    expect(lines.map((l) => l.text)).toContain('linked');
    expect(JSON.stringify([lines, result])).not.toContain('hunter2');
    expect(result).toMatchObject({ outcome: 'failed', reason: 'MessagesFileRefused', outputs: {} });

    // 9 MiB of one message line: over MAX_MESSAGES_BYTES (8 MiB), refused unread.
    const big = request({ outputs: ['x'] });
    big.command = {
      kind: 'shell',
      script: `head -c 9437184 /dev/zero | tr '\\0' a >> "$MAESTRO_MESSAGES"; echo wrote`,
    };
    const bigHandle = await runner.start(big);
    const [bigLines, bigResult] = await Promise.all([collect(bigHandle.logs()), bigHandle.wait()]);
    expect(bigLines.map((l) => l.text)).toContain('wrote');
    expect(bigResult).toMatchObject({ outcome: 'failed', reason: 'MessagesFileRefused' });
    expect(bigResult.message).toBe("the task's messages file is larger than 8388608 bytes; it was not read");
  });
});
