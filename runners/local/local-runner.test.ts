import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogLine, RunnerCommand, RunnerHandle, RunnerStartRequest } from '../../core/index.ts';
import { createLocalRunner, type LocalRunner } from './index.ts';

const SETUP_HINT = 'the launcher needs a C compiler: run `bash scripts/setup/local-runner.sh`';
const baseEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/tmp', LANG: 'C.UTF-8' };

let seq = 0;
function request(command: RunnerCommand, extra: Partial<RunnerStartRequest> = {}): RunnerStartRequest {
  const root = mkdtempSync(join(tmpdir(), 'maestro-local-test-'));
  seq++;
  return {
    runId: 'run-1',
    taskId: `task-${seq}`,
    attempt: 1,
    attemptId: `attempt-${seq}`,
    command,
    env: {},
    redact: [],
    workDir: join(root, 'work'),
    artifactsDir: join(root, 'artifacts', 'nested'),
    resources: 'small',
    namespace: 'default',
    outputs: [],
    ...extra,
  };
}
const sh = (script: string): RunnerCommand => ({ kind: 'shell', script });

async function collect(handle: RunnerHandle): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const line of handle.logs()) lines.push(line);
  return lines;
}
const texts = (lines: LogLine[], stream: string) =>
  lines.filter((l) => l.stream === stream).map((l) => l.text);

/**
 * A `sleep` only this test process uses (fractional seconds, named by our pid and a counter), so
 * the test can find it on the host: inside the sandbox's pid namespace `$!` is not a host pid.
 */
let naps = 0;
function uniqueNap(): string {
  return `100.${process.pid}${++naps}`;
}
/** Host pids of live processes whose argv is exactly `sleep <seconds>`. */
function sleepers(seconds: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') === `sleep\0${seconds}\0` && isAlive(Number(entry)))
        found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** Alive means present in /proc and not a zombie waiting for its reaper. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe.each(['launcher', 'node'] as const)('local runner, %s spawn path', (path) => {
  let runner: LocalRunner;
  beforeAll(async () => {
    runner = createLocalRunner({ spawn: path, baseEnv, graceMs: 2000, tailMs: 50 });
    const info = await runner.spawnPath();
    if (info.kind !== path || info.fallbackReason)
      throw new Error(`expected the ${path} path: ${info.fallbackReason ?? info.kind}; ${SETUP_HINT}`);
  });
  afterAll(() => runner.close());

  it('maps exit codes and signals to outcomes', async () => {
    const ok = await (await runner.start(request(sh('exit 0')))).wait();
    expect(ok).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
    const failed = await (await runner.start(request(sh('exit 3')))).wait();
    expect(failed).toMatchObject({ outcome: 'failed', exitCode: 3, retryable: true, reason: 'NonZeroExit' });
    const killed = await (await runner.start(request(sh('kill -9 $$')))).wait();
    // bubblewrap reports a child killed by signal n as exit code 128 + n (README: "Sandbox").
    expect(killed).toMatchObject({ outcome: 'failed', exitCode: 137, retryable: true });
    expect(ok.finishedAt).toBeGreaterThanOrEqual(ok.startedAt);
  });

  it('makes the attempt folders unless the caller says it made them (dirsMade)', async () => {
    const made = request(sh('test -d "$MAESTRO_ARTIFACTS" && pwd'));
    const [lines, result] = await (async () => {
      const handle = await runner.start(made);
      return Promise.all([collect(handle), handle.wait()]);
    })();
    expect(result).toMatchObject({ outcome: 'succeeded', exitCode: 0 });
    expect(texts(lines, 'stdout')).toEqual([realpathSync(made.workDir)]);
    // Trusted to exist: a missing one is the caller's mistake, reported before anything runs.
    const missing = await (await runner.start(request(sh('true'), { dirsMade: true }))).wait();
    expect(missing).toMatchObject({ outcome: 'runner_error', reason: 'ENOENT' });
    expect(existsSync(made.workDir)).toBe(true);
  });

  it('passes argv elements verbatim, never through a shell', async () => {
    const tricky = [
      'a value with spaces',
      `"double" 'single'`,
      '$(touch pwned)',
      '`touch pwned2`; rm -rf /',
      '*',
    ];
    const req = request({ kind: 'argv', argv: ['printf', '%s\\n', ...tricky] });
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result.outcome).toBe('succeeded');
    expect(texts(lines, 'stdout')).toEqual(tricky.map((t) => t.replace('\\n', '\n')));
    expect(existsSync(join(req.workDir, 'pwned'))).toBe(false);
    expect(existsSync(join(req.workDir, 'pwned2'))).toBe(false);
  });

  it('gives a shell script its env, a minimal base, the work dir as cwd, and nothing of ours', async () => {
    const req = request(sh('echo "greeting=$GREETING"; pwd; env | cut -d= -f1 | sort'), {
      env: { GREETING: 'hello "world" $HOME' },
    });
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result.outcome).toBe('succeeded');
    const out = texts(lines, 'stdout');
    expect(out[0]).toBe('greeting=hello "world" $HOME');
    expect(out[1]).toBe(realpathSync(req.workDir));
    // sh itself adds PWD (and may add SHLVL, OLDPWD, _); nothing else may appear.
    const names = out.slice(2).filter((n) => !['PWD', 'SHLVL', 'OLDPWD', '_'].includes(n));
    expect(names).toEqual([
      'GREETING',
      'HOME',
      'LANG',
      'MAESTRO_ARTIFACTS',
      'MAESTRO_MESSAGES',
      'MAESTRO_OUTPUT',
      'PATH',
    ]);
  });

  it('parses key=value and heredoc outputs from $MAESTRO_OUTPUT', async () => {
    const script = [
      'echo "count=42" >> "$MAESTRO_OUTPUT"',
      'echo "url=https://x/?a=b" >> "$MAESTRO_OUTPUT"',
      `printf 'notes<<EOF_1\\nline one\\n\\nline=three\\nEOF_1\\n' >> "$MAESTRO_OUTPUT"`,
      'echo "count=43" >> "$MAESTRO_OUTPUT"',
    ].join('\n');
    const result = await (await runner.start(request(sh(script)))).wait();
    expect(result.outputs).toEqual({ count: '43', url: 'https://x/?a=b', notes: 'line one\n\nline=three' });
  });

  it('never reads a host file through an outputs file the task replaced with a symlink', async () => {
    const req = request(sh(''));
    const hostFile = join(req.workDir, '..', 'host-secret.env');
    writeFileSync(hostFile, 'stolen=hunter2-host-secret\n');
    req.command = sh(`rm -f "$MAESTRO_OUTPUT"; ln -s ${JSON.stringify(hostFile)} "$MAESTRO_OUTPUT"`);
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result.outputs).toEqual({});
    expect(JSON.stringify([lines, result])).not.toContain('hunter2');
    expect(texts(lines, 'system').some((t) => /symbolic link/.test(t))).toBe(true);
  });

  it('never reads a host file through a messages file the task replaced with a symlink; the attempt fails', async () => {
    const req = request(sh(''));
    const hostFile = join(req.workDir, '..', 'host-secret.jsonl');
    writeFileSync(hostFile, `${JSON.stringify({ v: 1, type: 'log', message: 'hunter2-host-secret' })}\n`);
    req.command = sh(`rm -f "$MAESTRO_MESSAGES"; ln -s ${JSON.stringify(hostFile)} "$MAESTRO_MESSAGES"`);
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result).toMatchObject({ outcome: 'failed', reason: 'MessagesFileRefused', retryable: false });
    expect(JSON.stringify([lines, result])).not.toContain('hunter2');
    expect(texts(lines, 'system')).toContain("the task's messages file is a symbolic link; it was not read");
  });

  it('reads $MAESTRO_MESSAGES: declared outputs (winning over $MAESTRO_OUTPUT), redacted log lines, bad lines said', async () => {
    const msg = (m: object) => `printf '%s\\n' '${JSON.stringify({ v: 1, ...m })}' >> "$MAESTRO_MESSAGES"`;
    const req = request(
      sh(
        [
          'echo "answer=from-output-file" >> "$MAESTRO_OUTPUT"',
          msg({ type: 'output', name: 'answer', value: '42' }),
          msg({ type: 'output', name: 'undeclared', value: 'x' }),
          msg({ type: 'log', message: 'token hunter2-tok here' }),
          'echo "not json" >> "$MAESTRO_MESSAGES"',
        ].join('\n'),
      ),
    );
    req.outputs = ['answer'];
    req.redact = ['hunter2-tok'];
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: { answer: '42' } });
    expect(texts(lines, 'stdout')).toEqual(['token *** here']);
    expect(texts(lines, 'system')).toEqual([
      'messages line 2 (output): output "undeclared" is not declared (declared: answer); ignored',
      'messages line 4: not JSON; ignored',
    ]);
  });

  it('hands a checkpoint in as the file $MAESTRO_STATE names, and returns the last state the task emitted', async () => {
    const state = (n: number) =>
      `printf '%s\\n' '${JSON.stringify({ v: 1, type: 'state', value: { cursor: 0 } })}' | sed 's/0/'${n}'/' >> "$MAESTRO_MESSAGES"`;
    const req = request(
      sh(['echo "from=$(cat "$MAESTRO_STATE")" >> "$MAESTRO_OUTPUT"', state(600), state(700)].join('\n')),
      { state: '{"cursor":500}', env: { MAESTRO_STATE: '/etc/passwd' } },
    );
    req.outputs = ['from'];
    const handle = await runner.start(req);
    const [, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: { from: '{"cursor":500}' } });
    expect(result.state).toBe('{"cursor":700}');
  });

  it("sets no $MAESTRO_STATE without a checkpoint, whatever the manifest's env says", async () => {
    const req = request(sh('echo "set=${MAESTRO_STATE-unset}" >> "$MAESTRO_OUTPUT"'), {
      env: { MAESTRO_STATE: '/etc/passwd' },
    });
    req.outputs = ['set'];
    const handle = await runner.start(req);
    const [, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: { set: 'unset' } });
    expect(result.state).toBeUndefined();
  });

  it('exposes the artifacts it receives as $MAESTRO_ARTIFACTS, read-only inside the sandbox', async () => {
    const req = request(
      sh(
        'cat "$MAESTRO_ARTIFACTS/build/report.txt"; echo x > "$MAESTRO_ARTIFACTS/build/report.txt" || echo refused',
      ),
    );
    mkdirSync(join(req.artifactsDir, 'build'), { recursive: true });
    writeFileSync(join(req.artifactsDir, 'build', 'report.txt'), 'data\n');
    const handle = await runner.start(req);
    const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result.outcome).toBe('succeeded');
    expect(texts(lines, 'stdout')).toEqual(['data', 'refused']);
    expect(readFileSync(join(req.artifactsDir, 'build', 'report.txt'), 'utf8')).toBe('data\n');
  });

  it('redacts secrets on stdout and stderr, mid-line and across chunk boundaries', async () => {
    const secret = 'hunter2-S3CR3T';
    const script = [
      `echo "token=${secret} end"`,
      `echo "err ${secret}" >&2`,
      `printf 'start hunter2-'`,
      'sleep 0.3', // the rest arrives in a later chunk (and a later tail on the launcher path)
      `printf 'S3CR3T tail\\n'`,
      `printf 'last ${secret}'`, // no newline: the partial last line is kept and redacted
    ].join('\n');
    const handle = await runner.start(request(sh(script), { redact: [secret, ''] }));
    const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result.outcome).toBe('succeeded');
    expect(lines.every((l) => !l.text.includes(secret) && !l.text.includes('S3CR3T'))).toBe(true);
    expect(texts(lines, 'stdout')).toEqual(['token=*** end', 'start *** tail', 'last ***']);
    expect(texts(lines, 'stderr')).toEqual(['err ***']);
    expect(lines.every((l) => typeof l.time === 'number')).toBe(true);
  });

  it('delivers every line of a large output, in order', async () => {
    const handle = await runner.start(request(sh('seq 1 200000; seq 1 3 >&2')));
    const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
    expect(result.outcome).toBe('succeeded');
    const out = texts(lines, 'stdout');
    expect(out.length).toBe(200000);
    expect(out.every((text, i) => text === String(i + 1))).toBe(true);
    expect(texts(lines, 'stderr')).toEqual(['1', '2', '3']);
  });

  it('streams logs while the process runs', async () => {
    const handle = await runner.start(request(sh('echo first; sleep 1; echo second')));
    let settled = false;
    void handle.wait().then(() => (settled = true));
    const iterator = handle.logs()[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value?.text).toBe('first');
    expect(settled).toBe(false);
    const second = await iterator.next();
    expect(second.value?.text).toBe('second');
    expect((await handle.wait()).outcome).toBe('succeeded');
  });

  it('cancel ends the whole tree, grandchild included', async () => {
    const nap = uniqueNap();
    const handle = await runner.start(request(sh(`sleep ${nap} & wait`)));
    await until(() => sleepers(nap).length === 1, 'the grandchild');
    await handle.cancel('user asked', 1000);
    const result = await handle.wait();
    expect(result).toMatchObject({ outcome: 'cancelled', retryable: false });
    await until(() => sleepers(nap).length === 0, 'the grandchild to be gone');
  });

  it('gives the tree its grace period on SIGTERM (the sandbox does not cut it short)', async () => {
    const nap = uniqueNap();
    const handle = await runner.start(
      request(
        sh(`trap 'echo got TERM; echo "clean=yes" >> "$MAESTRO_OUTPUT"; exit 7' TERM; sleep ${nap} & wait`),
      ),
    );
    await until(() => sleepers(nap).length === 1, 'the grandchild');
    const [lines, , result] = await Promise.all([
      collect(handle),
      handle.cancel('stop', 3000),
      handle.wait(),
    ]);
    expect(texts(lines, 'stdout')).toContain('got TERM');
    expect(result).toMatchObject({ outcome: 'cancelled', exitCode: 7, outputs: { clean: 'yes' } });
    await until(() => sleepers(nap).length === 0, 'the grandchild to be gone');
  });

  it('escalates to SIGKILL after the grace period when the tree ignores SIGTERM', async () => {
    const nap = uniqueNap();
    const handle = await runner.start(request(sh(`trap "" TERM; sleep ${nap} & wait; wait; sleep ${nap}`)));
    await until(() => sleepers(nap).length === 1, 'the grandchild');
    await handle.cancel('stop', 300);
    const result = await handle.wait();
    expect(result).toMatchObject({ outcome: 'cancelled', signal: 'SIGKILL' });
    await until(() => sleepers(nap).length === 0, 'the grandchild to be gone');
  });

  it('times out, killing the tree, as a retryable timed_out', async () => {
    const nap = uniqueNap();
    const handle = await runner.start(request(sh(`sleep ${nap} & wait`), { timeoutMs: 300 }));
    const result = await handle.wait();
    expect(result).toMatchObject({ outcome: 'timed_out', retryable: true, reason: 'DeadlineExceeded' });
    await until(() => sleepers(nap).length === 0, 'the grandchild to be gone');
  });

  it('ends a process that left the group with setsid, with the sandbox', async () => {
    const nap = uniqueNap();
    const handle = await runner.start(request(sh(`setsid sleep ${nap} & sleep ${nap}`), { timeoutMs: 300 }));
    expect((await handle.wait()).outcome).toBe('timed_out');
    await until(() => sleepers(nap).length === 0, 'the escaped sleeper to be gone');
  });

  it('reports a missing or non-executable program as a runner_error', async () => {
    const missing = await (
      await runner.start(request({ kind: 'argv', argv: ['/nonexistent/bin/nope'] }))
    ).wait();
    expect(missing).toMatchObject({
      outcome: 'runner_error',
      reason: 'ENOENT',
      retryable: false,
      exitCode: null,
    });
    const notOnPath = await (
      await runner.start(request({ kind: 'argv', argv: ['no-such-program-xyz'] }))
    ).wait();
    expect(notOnPath).toMatchObject({ outcome: 'runner_error', reason: 'ENOENT', retryable: false });
    const req = request({ kind: 'argv', argv: ['./not-executable'] });
    mkdirSync(req.workDir, { recursive: true });
    writeFileSync(join(req.workDir, 'not-executable'), '#!/bin/sh\necho hi\n');
    chmodSync(join(req.workDir, 'not-executable'), 0o644);
    const denied = await (await runner.start(req)).wait();
    expect(denied).toMatchObject({ outcome: 'runner_error', reason: 'EACCES', retryable: false });
  });

  it('rejects container commands and NUL bytes without starting anything', async () => {
    const container = await (await runner.start(request({ kind: 'container', image: 'alpine' }))).wait();
    expect(container).toMatchObject({
      outcome: 'runner_error',
      reason: 'unsupported_command',
      retryable: false,
    });
    const nul = await (await runner.start(request({ kind: 'argv', argv: ['echo', 'a\0b'] }))).wait();
    expect(nul).toMatchObject({ outcome: 'runner_error', reason: 'EINVAL', retryable: false });
  });

  it('redacts secrets from runner errors too', async () => {
    const secret = 'pw-0123456789';
    const result = await (
      await runner.start(request({ kind: 'argv', argv: [`/nonexistent/${secret}`] }, { redact: [secret] }))
    ).wait();
    expect(result.outcome).toBe('runner_error');
    expect(result.message ?? '').not.toContain(secret);
  });
});

describe('local runner spawn path selection', () => {
  it('falls back to child_process when no C compiler is available', async () => {
    const runner = createLocalRunner({
      baseEnv,
      cc: '/nonexistent/cc',
      cacheDir: mkdtempSync(join(tmpdir(), 'maestro-launcher-cache-')),
    });
    const info = await runner.spawnPath();
    expect(info.kind).toBe('node');
    expect(info.fallbackReason).toMatch(/nonexistent\/cc/);
    const result = await (await runner.start(request(sh('echo fine')))).wait();
    expect(result.outcome).toBe('succeeded');
    await runner.close();
  });

  it.each(['launcher', 'node'] as const)(
    'kill -9 of the engine process ends the attempts the %s path started',
    async (path) => {
      const nap = uniqueNap();
      const script = `
      const { createLocalRunner } = await import(${JSON.stringify(join(import.meta.dirname, 'index.ts'))});
      const runner = createLocalRunner({ spawn: '${path}', baseEnv: { PATH: '/usr/bin:/bin' } });
      const info = await runner.spawnPath();
      if (info.fallbackReason) throw new Error(info.fallbackReason);
      await runner.start({ runId: 'r', taskId: 't', attempt: 1, attemptId: 'a', env: {}, redact: [],
        command: { kind: 'shell', script: 'sleep ${nap} & wait' },
        workDir: ${JSON.stringify(join(tmpdir(), 'maestro-kill9-work'))}, artifactsDir: ${JSON.stringify(join(tmpdir(), 'maestro-kill9-art'))},
        resources: 'small', namespace: 'default', outputs: [] });
      setInterval(() => {}, 1000);`;
      const engine = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
      await until(() => sleepers(nap).length === 1, 'the grandchild', 20_000);
      engine.kill('SIGKILL');
      await until(() => sleepers(nap).length === 0, 'the grandchild to be gone after kill -9 of its engine');
    },
  );

  it('closing the runner ends attempts still running on the launcher', async () => {
    const runner = createLocalRunner({ spawn: 'launcher', baseEnv });
    const info = await runner.spawnPath();
    expect(info.fallbackReason, SETUP_HINT).toBeUndefined();
    const nap = uniqueNap();
    const handle = await runner.start(request(sh(`sleep ${nap} & wait`)));
    await until(() => sleepers(nap).length === 1, 'the grandchild');
    await runner.close();
    expect((await handle.wait()).outcome).toBe('cancelled');
    await until(() => sleepers(nap).length === 0, 'the grandchild to be gone');
  });
});

describe('local runner where no sandbox can be made', () => {
  it('refuses trusted and untrusted work with sandbox_unavailable, running nothing', async () => {
    const runner = createLocalRunner({ baseEnv, bwrap: '/nonexistent/bwrap' });
    try {
      for (const trust of ['trusted', 'untrusted'] as const) {
        const req = request(sh('echo ran > ran.txt'), { trust });
        const result = await (await runner.start(req)).wait();
        expect(result).toMatchObject({
          outcome: 'runner_error',
          reason: 'sandbox_unavailable',
          retryable: false,
        });
        expect(result.message).toMatch(/no sandbox can be made.*not installed[\s\S]*hint: .*sandbox: none/);
        expect(existsSync(join(req.workDir, 'ran.txt'))).toBe(false);
      }
    } finally {
      await runner.close();
    }
  });

  it('with sandbox: none, runs trusted work unsandboxed and says so in its log and result', async () => {
    const runner = createLocalRunner({ baseEnv, sandbox: 'none' });
    try {
      const handle = await runner.start(request(sh('echo hi'), { trust: 'trusted' }));
      const [lines, result] = await Promise.all([collect(handle), handle.wait()]);
      expect(result.outcome).toBe('succeeded');
      expect(result.isolation).toEqual({
        sandbox: 'none',
        network: 'on',
        reason: 'the runners config says `sandbox: none`',
      });
      expect(texts(lines, 'system')).toContain('sandbox: none (the runners config says `sandbox: none`)');
      const refused = await (await runner.start(request(sh('echo hi'), { trust: 'untrusted' }))).wait();
      expect(refused).toMatchObject({ outcome: 'runner_error', reason: 'sandbox_unavailable' });
    } finally {
      await runner.close();
    }
  });
});
