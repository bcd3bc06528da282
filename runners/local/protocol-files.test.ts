/**
 * The task's protocol files ($MAESTRO_OUTPUT, $MAESTRO_MESSAGES) of an unsandboxed attempt, on both
 * spawn paths: the launcher makes them itself and says at the end whether they hold anything;
 * child_process has the runner make and read them. Either way: made empty before the task starts,
 * never through a link, in the runner's private folder (not the workspace, where a file or link of
 * that name from the repository is never touched), and nothing of them left behind.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine, RunnerHandle, RunnerStartRequest } from '../../core/index.ts';
import { createLocalRunner, type LocalRunner } from './index.ts';

const baseEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

let seq = 0;
function request(script: string): RunnerStartRequest {
  const root = mkdtempSync(join(tmpdir(), 'maestro-protocol-test-'));
  seq++;
  const workDir = join(root, 'work');
  const artifactsDir = join(root, 'in');
  mkdirSync(workDir);
  mkdirSync(artifactsDir);
  return {
    runId: 'run-1',
    taskId: `task-${seq}`,
    attempt: 1,
    attemptId: `attempt-${seq}`,
    command: { kind: 'shell', script },
    env: {},
    redact: [],
    workDir,
    artifactsDir,
    dirsMade: true,
    trust: 'trusted', // `sandbox: none` runs trusted work only
    resources: 'small',
    namespace: 'default',
    outputs: [],
  };
}

async function collect(handle: RunnerHandle): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of handle.logs()) lines.push(line);
  return lines;
}

describe.each(['launcher', 'node'] as const)('protocol files, %s spawn path', (path) => {
  let runner: LocalRunner;
  beforeAll(async () => {
    runner = createLocalRunner({ spawn: path, sandbox: 'none', baseEnv, tailMs: 50 });
    const info = await runner.spawnPath();
    if (info.kind !== path || info.fallbackReason)
      throw new Error(`expected the ${path} path: ${info.fallbackReason ?? info.kind}`);
  });
  afterAll(() => runner.close());

  it('makes both files empty before the task starts, outside the workspace, and leaves neither behind', async () => {
    const req = request(
      'test -f "$MAESTRO_OUTPUT" && test ! -s "$MAESTRO_OUTPUT" && test -f "$MAESTRO_MESSAGES" && test ! -s "$MAESTRO_MESSAGES" && echo "$MAESTRO_OUTPUT" && echo "$MAESTRO_MESSAGES"',
    );
    writeFileSync(join(req.workDir, '.maestro-output'), 'stale=from the repository\n');
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: {} }); // the repository's file is not read
    const [output, messages] = lines.filter((l) => l.stream === 'stdout').map((l) => l.text);
    expect(dirname(output!)).toBe(dirname(messages!));
    expect(dirname(output!).startsWith(req.workDir)).toBe(false);
    const folder = lstatSync(dirname(output!));
    expect(folder.isDirectory() && (folder.mode & 0o777) === 0o700 && folder.uid === process.getuid?.()).toBe(
      true,
    );
    expect(existsSync(output!) || existsSync(messages!)).toBe(false);
    expect(readFileSync(join(req.workDir, '.maestro-output'), 'utf8')).toBe('stale=from the repository\n');
    expect(existsSync(join(req.workDir, '.maestro-messages'))).toBe(false);
  });

  it('takes what the task wrote into either file, and removes both', async () => {
    const req = request(
      `echo a=1 >> "$MAESTRO_OUTPUT"; echo '{"v":1,"type":"log","message":"said"}' >> "$MAESTRO_MESSAGES"`,
    );
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: { a: '1' } });
    expect(lines.some((l) => l.stream === 'stdout' && l.text === 'said')).toBe(true);
    expect(existsSync(join(req.workDir, '.maestro-output'))).toBe(false);
    expect(existsSync(join(req.workDir, '.maestro-messages'))).toBe(false);
  });

  it('never truncates a file through a link of that name already in the workspace', async () => {
    const req = request('echo ran > ran.txt; echo a=1 >> "$MAESTRO_OUTPUT"');
    const target = join(req.workDir, '..', 'precious.txt');
    writeFileSync(target, 'keep me\n');
    symlinkSync(target, join(req.workDir, '.maestro-output'));
    const result = await (await runner.start(req)).wait();
    expect(readFileSync(target, 'utf8')).toBe('keep me\n');
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: { a: '1' } });
    expect(lstatSync(join(req.workDir, '.maestro-output')).isSymbolicLink()).toBe(true); // untouched
  });
});

// In the sandbox the files stay in the workspace (the one writable place the task sees), made by
// the launcher with O_NOFOLLOW: the repository's link of that name is refused, never followed.
describe('protocol files, sandboxed (launcher)', () => {
  let runner: LocalRunner;
  beforeAll(async () => {
    runner = createLocalRunner({ spawn: 'launcher', baseEnv, tailMs: 50 });
    const probe = runner.sandbox().probe;
    if (!probe.ok) throw new Error(`no sandbox here: ${probe.reason}`);
  });
  afterAll(() => runner.close());

  it('makes both files empty in the workspace, and leaves neither behind', async () => {
    const req = request(
      'test -f "$MAESTRO_OUTPUT" && test ! -s "$MAESTRO_OUTPUT" && echo a=1 >> "$MAESTRO_OUTPUT"',
    );
    writeFileSync(join(req.workDir, '.maestro-output'), 'stale=from the repository\n');
    const result = await (await runner.start(req)).wait();
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: { a: '1' } });
    expect(existsSync(join(req.workDir, '.maestro-output'))).toBe(false);
    expect(existsSync(join(req.workDir, '.maestro-messages'))).toBe(false);
  });

  it('never truncates a file through a link of that name already in the workspace', async () => {
    const req = request('echo ran > ran.txt');
    const target = join(req.workDir, '..', 'precious.txt');
    writeFileSync(target, 'keep me\n');
    symlinkSync(target, join(req.workDir, '.maestro-output'));
    const result = await (await runner.start(req)).wait();
    expect(readFileSync(target, 'utf8')).toBe('keep me\n');
    expect(result).toMatchObject({ outcome: 'runner_error', reason: 'ELOOP' });
    expect(existsSync(join(req.workDir, 'ran.txt'))).toBe(false);
  });
});
