/** Concurrency, priority, run timeouts, cancel from another process, one executor per run, secrets. */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { runCli, type CliIo } from '../cli/index.ts';
import { parseSecretsFile } from '../runtime/index.ts';
import { createLiveView } from '../cli/live-view.ts';
import { policyOff, RunnerRegistry } from '../core/index.ts';
import {
  createEngine,
  openStore,
  RunBusyError,
  type EngineEvent,
  type EngineOptions,
  asyncSqliteStore,
} from '../engine/index.ts';
import { ReadyQueue } from '../engine/ready-queue.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';
import { startWitness } from './helpers/witness.ts';

const root = join(import.meta.dirname, '..');

// Real local runners started by this file, closed at the end (their launcher processes).
const runners: { close(): Promise<void> }[] = [];
const track = <T extends { close(): Promise<void> }>(r: T): T => (runners.push(r), r);
afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
});

function setup(extra: Partial<EngineOptions> = {}, dataDir = tempDir()) {
  const store = openStore({ dataDir });
  const runner = track(recordingLocalRunner());
  const engine = createEngine({
    policy: policyOff('engine test: mechanics, not policy'),
    store: asyncSqliteStore(store),
    dataDir,
    runners: new RunnerRegistry().register(runner),
    ...extra,
  });
  return { dataDir, store, runner, engine };
}

function io(env: Record<string, string> = {}, isTty = false): CliIo & { out: string; err: string } {
  const c = {
    out: '',
    err: '',
    stdout: (t: string) => void (c.out += t),
    stderr: (t: string) => void (c.err += t),
    isTty,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, USER: 'tester', ...env },
    cwd: root,
  };
  return c;
}

describe('ready queue', () => {
  it('orders by priority, then first come first served', () => {
    const q = new ReadyQueue();
    q.push({ runId: 'r', taskId: 'low1', priority: 0 });
    q.push({ runId: 'r', taskId: 'high1', priority: 5 });
    q.push({ runId: 'r', taskId: 'low2', priority: 0 });
    q.push({ runId: 'r', taskId: 'high2', priority: 5 });
    const order: string[] = [];
    for (let item = q.take(() => true); item; item = q.take(() => true)) order.push(item.taskId);
    expect(order).toEqual(['high1', 'high2', 'low1', 'low2']);
  });
});

describe('engine control', () => {
  it('never runs more attempts at once than the concurrency limit', async () => {
    const { engine } = setup({ concurrency: 2 });
    let running = 0;
    let peak = 0;
    engine.subscribe((e) => {
      if (e.type !== 'task') return;
      if (e.to === 'running') peak = Math.max(peak, ++running);
      if (e.from === 'running') running--;
    });
    const runId = await engine.submit(
      planOf(['a', 'b', 'c', 'd', 'e'].map((id) => shellTask(id, 'sleep 0.2'))),
    );
    expect((await engine.execute(runId)).status).toBe('succeeded');
    expect(peak).toBe(2);
  });

  it('starts a higher-priority run’s ready tasks before a lower one’s', async () => {
    const { engine, runner } = setup({ concurrency: 1 });
    const low = await engine.submit(planOf([shellTask('l1', 'sleep 0.1'), shellTask('l2', 'true')]), {
      priority: 0,
    });
    const high = await engine.submit(planOf([shellTask('h1', 'true'), shellTask('h2', 'true')]), {
      priority: 10,
    });
    await Promise.all([engine.execute(low), engine.execute(high)]);
    // l1 may take the one slot before the high run's tasks are ready (it is the only ready task
    // then), or after them; either way no low task starts while a high one waits. FIFO would start
    // l2 before h2.
    expect([
      ['l1#1', 'h1#1', 'h2#1', 'l2#1'],
      ['h1#1', 'h2#1', 'l1#1', 'l2#1'],
    ]).toContainEqual(runner.started);
  });

  it('times out the whole run', async () => {
    const { engine, store } = setup();
    const runId = await engine.submit(
      planOf([shellTask('slow', 'sleep 30'), shellTask('after', 'true', { needs: ['slow'] })], {
        timeoutMs: 300,
      }),
    );
    const run = await engine.execute(runId);
    expect(run).toMatchObject({ status: 'timed_out', reason: 'run_timeout' });
    expect(store.getTask(runId, 'slow')).toMatchObject({ state: 'timed_out', reason: 'run_timeout' });
    expect(store.getTask(runId, 'after').state).toBe('cancelled');
  });

  it('counts the run timeout from a user retry, not from the first execution', async () => {
    const { engine } = setup();
    const witness = await startWitness();
    // Fails the first time, succeeds the second: the witness (on 127.0.0.1) counts the attempts.
    const script = `sleep 0.3; [ "$(echo x | ${witness.report('t')})" -ge 2 ]`;
    const runId = await engine.submit(planOf([shellTask('t', script)], { timeoutMs: 4000 }), {
      trust: 'trusted',
    });
    expect((await engine.execute(runId)).status).toBe('failed');
    // Past the first execution's deadline: a retry gets its own 4 s.
    await new Promise((r) => setTimeout(r, 4500));
    onTestFinished(() => witness.close());
    await engine.retry(runId, { by: 'user:bob' });
    expect((await engine.execute(runId)).status).toBe('succeeded');
  });

  it('retries just the named failed task and what it skipped, leaving the other failures as they are', async () => {
    const { engine, store } = setup();
    const witness = await startWitness();
    onTestFinished(() => witness.close());
    const flaky = `[ "$(echo x | ${witness.report('a')})" -ge 2 ]`;
    const runId = await engine.submit(
      planOf([
        shellTask('a', flaky),
        shellTask('a-after', 'true', { needs: ['a'] }),
        shellTask('b', 'false'),
        shellTask('b-after', 'true', { needs: ['b'] }),
      ]),
      { trust: 'trusted' },
    );
    expect((await engine.execute(runId)).status).toBe('failed');
    await expect(engine.retry(runId, { by: 'user:bob', tasks: ['b-after'] })).rejects.toMatchObject({
      code: 'task_not_retryable',
    });
    await expect(engine.retry(runId, { by: 'user:bob', tasks: ['nope'] })).rejects.toMatchObject({
      code: 'task_not_retryable',
    });
    await engine.retry(runId, { by: 'user:bob', tasks: ['a'] });
    expect((await engine.execute(runId)).status).toBe('failed'); // b still failed
    expect(store.getTask(runId, 'a')).toMatchObject({ state: 'succeeded', attempts: 2 });
    expect(store.getTask(runId, 'a-after').state).toBe('succeeded');
    expect(store.getTask(runId, 'b')).toMatchObject({ state: 'failed', attempts: 1 });
    expect(store.getTask(runId, 'b-after').state).toBe('skipped');
  });

  it('refuses a second live executor of the same run', async () => {
    const dataDir = tempDir();
    const first = setup({}, dataDir);
    const runId = await first.engine.submit(planOf([shellTask('t', 'sleep 0.5')]));
    const running = first.engine.execute(runId);
    const second = setup({}, dataDir);
    await expect(second.engine.execute(runId)).rejects.toBeInstanceOf(RunBusyError);
    expect((await running).status).toBe('succeeded');
  });

  it('cancels a run executing in another process, recording who asked', async () => {
    const dataDir = tempDir();
    const folder = join(dataDir, 'wf', '.maestro', 'workflows');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'long.yaml');
    writeFileSync(
      file,
      'apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: long, namespace: t }\nspec:\n  defaults: { runner: local }\n  tasks:\n    - id: wait\n      run: sleep 60\n',
    );
    const child = spawn(
      join(root, 'node_modules', '.bin', 'node'),
      [join(root, 'bin', 'maestro.ts'), 'run', file],
      {
        env: { ...process.env, MAESTRO_DATA_DIR: dataDir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 30_000;
    while (!out.includes('wait running')) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`maestro did not start the task:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const runId = /run (r-[0-9a-f-]+)/.exec(out)![1]!;
    const cancel = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['runs', 'cancel', runId], cancel)).toBe(0);
    expect(await exit).toBe(1);
    const store = openStore({ dataDir });
    expect(store.getRun(runId)).toMatchObject({ status: 'cancelled', cancelRequestedBy: 'user:tester' });
    expect(store.listTransitions(runId, 'wait').at(-1)).toMatchObject({ to: 'cancelled', by: 'user:tester' });
    store.close();
  });

  it('cancels the run on Ctrl-C (SIGINT) of maestro run, recording the user', async () => {
    const dataDir = tempDir();
    const folder = join(dataDir, 'wf', '.maestro', 'workflows');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 'long.yaml');
    writeFileSync(
      file,
      'apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: long, namespace: t }\nspec:\n  defaults: { runner: local }\n  tasks:\n    - id: wait\n      run: sleep 60\n',
    );
    const child = spawn(
      join(root, 'node_modules', '.bin', 'node'),
      [join(root, 'bin', 'maestro.ts'), 'run', file],
      {
        env: { ...process.env, MAESTRO_DATA_DIR: dataDir, USER: 'carol' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 30_000;
    while (!out.includes('wait running')) {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`maestro did not start the task:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGINT');
    expect(await exit, out).toBe(1);
    const runId = /run (r-[0-9a-f-]+)/.exec(out)![1]!;
    const store = openStore({ dataDir });
    expect(store.getRun(runId).status).toBe('cancelled');
    expect(store.listTransitions(runId, null).at(-1)).toMatchObject({
      to: 'cancelled',
      by: 'user:carol (SIGINT)',
    });
    store.close();
  });

  it('cancels a run that no engine is executing directly in the store', async () => {
    const dataDir = tempDir();
    const { engine, store } = setup({}, dataDir);
    const runId = await engine.submit(
      planOf([shellTask('a', 'true'), shellTask('b', 'true', { needs: ['a'] })]),
    );
    const cancel = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['runs', 'cancel', runId, '--format', 'json'], cancel)).toBe(0);
    expect(JSON.parse(cancel.out)).toMatchObject({
      id: runId,
      status: 'cancelled',
      cancelRequestedBy: 'user:tester',
    });
    expect(store.listTasks(runId).map((t) => t.state)).toEqual(['cancelled', 'cancelled']);
    expect((await engine.execute(runId)).status).toBe('cancelled');
    const list = io({ MAESTRO_DATA_DIR: dataDir });
    await runCli(
      ['runs', 'list', '--status', 'cancelled', '--since', '2000-01-01', '--format', 'json'],
      list,
    );
    expect(JSON.parse(list.out).map((r: { id: string }) => r.id)).toEqual([runId]);
    const none = io({ MAESTRO_DATA_DIR: dataDir });
    await runCli(['runs', 'list', '--until', '2000-01-01', '--format', 'json'], none);
    expect(JSON.parse(none.out)).toEqual([]);
    const bad = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['runs', 'list', '--status', 'exploded'], bad)).toBe(2);
  });

  it('passes secrets from a secrets file to tasks and redacts them', async () => {
    const dataDir = tempDir();
    const secrets = join(dataDir, 'dev.env');
    writeFileSync(secrets, '# local only\nexport API_TOKEN="tok-123456"\n');
    const folder = join(dataDir, 'wf', '.maestro', 'workflows');
    mkdirSync(folder, { recursive: true });
    const file = join(folder, 's.yaml');
    writeFileSync(
      file,
      'apiVersion: maestro/v1\nkind: Workflow\nmetadata: { name: s, namespace: t }\nspec:\n  defaults: { runner: local }\n  tasks:\n    - id: use\n      run: echo "token=${secrets.API_TOKEN} length=$(printf %s "${secrets.API_TOKEN}" | wc -c)"\n',
    );
    const run = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', file, '--secrets', secrets], run)).toBe(0);
    expect(run.out).toContain('use | token=*** length=10');
    expect(run.out).not.toContain('tok-123456');
    const missing = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', file], missing)).toBe(1);
    expect(missing.out).toContain('needs the secret API_TOKEN');
  });

  it('parses secrets files and names the bad line without echoing values', () => {
    expect(parseSecretsFile("A=1\n\n# c\nexport B='two words'\n", 'f')).toEqual({ A: '1', B: 'two words' });
    expect(() => parseSecretsFile('A=1\nnot a pair secretvalue\n', 'dev.env')).toThrow(
      /dev.env:2: expected NAME=value/,
    );
    try {
      parseSecretsFile('bad secretvalue', 'x');
    } catch (error) {
      expect(String(error)).not.toContain('secretvalue');
    }
  });

  it('redraws the live view in place on a terminal', () => {
    const tty = io({}, true);
    const view = createLiveView(tty, ['build', 'test'], () => 2000);
    const event = (taskId: string, to: string, time: number): EngineEvent => ({
      type: 'task',
      runId: 'r',
      taskId,
      from: 'ready',
      to,
      reason: 'started',
      by: 'engine',
      time,
      attempt: 1,
    });
    view.onEvent(event('build', 'running', 1000));
    view.onEvent(event('build', 'succeeded', 1500));
    view.close();
    expect(tty.out).toContain('\x1b[2A\x1b[J');
    expect(tty.out.split('\x1b[2A\x1b[J').at(-1)).toMatch(/✓ build\s+succeeded\s+500ms\n· test\s+queued/);
  });

  it('shows counts and the running tasks on a terminal when a run is large', () => {
    const tty = io({}, true);
    const ids = Array.from({ length: 40 }, (_, i) => `t${i}`);
    const view = createLiveView(tty, ids, () => 5000);
    view.onEvent({
      type: 'task',
      runId: 'r',
      taskId: 't3',
      from: 'ready',
      to: 'running',
      reason: 'started',
      by: 'e',
      time: 4000,
      attempt: 2,
    });
    view.close();
    const last = tty.out.split('\x1b[J').at(-1)!;
    expect(last.split('\n')[0]).toBe('40 tasks: queued 39  running 1');
    expect(last).toMatch(/▶ t3\s+running\s+#2\s+1\.0s/);
    expect(last.trim().split('\n')).toHaveLength(2);
  });
});
