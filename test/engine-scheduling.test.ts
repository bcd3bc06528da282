import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry } from '../core/index.ts';
import { createEngine, openStore, type EngineOptions, asyncSqliteStore } from '../engine/index.ts';
import {
  fakeClock,
  planOf,
  recordingLocalRunner,
  sequenceRandom,
  shellTask,
  tempDir,
} from './helpers/engine-fixtures.ts';
import { startWitness, type Witness } from './helpers/witness.ts';

// Tasks report to a witness on 127.0.0.1 (the sandbox shows them no host file to write to); the
// runs that report are trusted, so they have the network.
let witness: Witness;
beforeAll(async () => (witness = await startWitness()));
afterAll(() => witness.close());

// Real local runners started by this file, closed at the end (their launcher processes).
const runners: { close(): Promise<void> }[] = [];
const track = <T extends { close(): Promise<void> }>(r: T): T => (runners.push(r), r);
afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
});

function setup(extra: Partial<EngineOptions> = {}) {
  const dataDir = tempDir();
  const store = openStore({ dataDir });
  const runner = track(recordingLocalRunner());
  const engine = createEngine({
    policy: policyOff('engine test: mechanics, not policy'),
    store: asyncSqliteStore(store),
    dataDir,
    runners: new RunnerRegistry().register(runner),
    concurrency: 2,
    leaseMs: 60_000,
    ...extra,
  });
  return { dataDir, store, runner, engine };
}

describe('engine scheduling with real processes', () => {
  it('runs fan-out then fan-in in dependency order and passes outputs', async () => {
    const { engine, store } = setup();
    const log = witness.report('order');
    const plan = planOf([
      shellTask('a', `echo a | ${log}; echo "greeting=hello" >> "$MAESTRO_OUTPUT"`, {
        outputs: ['greeting'],
      }),
      shellTask('b1', `echo b1 | ${log}`, { needs: ['a'] }),
      shellTask('b2', `echo b2 | ${log}`, { needs: ['a'] }),
      shellTask('c', `echo "c $MAESTRO_EXPR_0" | ${log}`, {
        needs: ['a', 'b1', 'b2'],
        env: { MAESTRO_EXPR_0: '${tasks.a.outputs.greeting}' },
      }),
    ]);
    const runId = await engine.submit(plan, { actor: 'tester', trust: 'trusted' });
    const run = await engine.execute(runId);
    expect(run.status).toBe('succeeded');
    const lines = witness.reports('order').map((r) => r.body.trim());
    expect(lines[0]).toBe('a');
    expect(lines.slice(1, 3).sort()).toEqual(['b1', 'b2']);
    expect(lines[3]).toBe('c hello');
    expect(store.taskOutputs(runId, 'a')).toEqual({ greeting: 'hello' });
    const transitions = store.listTransitions(runId, 'c').map((t) => t.to);
    expect(transitions).toEqual(['queued', 'ready', 'running', 'succeeded']);
  });

  it('retries with exponential backoff and full jitter from the injected clock and random source', async () => {
    const clock = fakeClock();
    const { engine, store } = setup({ clock, random: sequenceRandom([0.5, 0.25, 0.75]) });
    const plan = planOf([
      // Succeeds on its fourth attempt: the witness counts the attempts.
      shellTask('flaky', `[ "$(echo x | ${witness.report('flaky')})" -ge 4 ]`, {
        retry: { limit: 5, backoff: { initialMs: 1000, factor: 2, maxMs: 3000 }, jitter: 'full' },
      }),
    ]);
    const runId = await engine.submit(plan, { trust: 'trusted' });
    const run = await engine.execute(runId);
    expect(run.status).toBe('succeeded');
    // ceilings 1000, 2000, min(4000, 3000) × random 0.5, 0.25, 0.75
    expect(clock.waits).toEqual([500, 500, 2250]);
    const attempts = store.listAttempts(runId, 'flaky');
    expect(attempts.map((a) => a.outcome)).toEqual(['failed', 'failed', 'failed', 'succeeded']);
  });

  it('stops retrying at the limit and when the failure is not retryable', async () => {
    const { engine, store } = setup({ clock: fakeClock() });
    const runId = await engine.submit(
      planOf([
        shellTask('always', 'exit 3', {
          retry: { limit: 2, backoff: { initialMs: 10, factor: 2, maxMs: 100 }, jitter: 'none' },
        }),
        shellTask('after', 'true', { needs: ['always'] }),
      ]),
    );
    const run = await engine.execute(runId);
    expect(run.status).toBe('failed');
    expect(store.listAttempts(runId, 'always').map((a) => a.exitCode)).toEqual([3, 3, 3]);
    expect(store.getTask(runId, 'always').reason).toBe('retries_exhausted');
    expect(store.getTask(runId, 'after')).toMatchObject({ state: 'skipped', reason: 'dependency_failed' });
  });

  it('times a task out and records timed_out', async () => {
    const { engine, store } = setup();
    const runId = await engine.submit(planOf([shellTask('slow', 'sleep 30', { timeoutMs: 300 })]));
    const run = await engine.execute(runId);
    expect(run.status).toBe('failed');
    expect(store.getTask(runId, 'slow')).toMatchObject({ state: 'timed_out', reason: 'timeout' });
  });

  it('cancels a running run, kills its process and records who cancelled', async () => {
    const { engine, store } = setup();
    const runId = await engine.submit(
      planOf([shellTask('long', 'sleep 30'), shellTask('next', 'true', { needs: ['long'] })]),
    );
    const done = engine.execute(runId);
    await new Promise<void>((resolve) => {
      const off = engine.subscribe((e) => {
        if (e.type === 'task' && e.to === 'running') {
          off();
          resolve();
        }
      });
    });
    await engine.cancel(runId, { by: 'user:alice' });
    const run = await done;
    expect(run.status).toBe('cancelled');
    expect(store.getTask(runId, 'long')).toMatchObject({ state: 'cancelled' });
    const last = store.listTransitions(runId, null).at(-1)!;
    expect(last).toMatchObject({ to: 'cancelled', by: 'user:alice' });
    expect(store.listTransitions(runId, 'long').at(-1)!.by).toBe('user:alice');
  });

  it('skips on a false condition and propagates the skip unless runIfSkipped', async () => {
    const { engine, store } = setup();
    const runId = await engine.submit(
      planOf([
        shellTask('gate', 'echo "go=no" >> "$MAESTRO_OUTPUT"', { outputs: ['go'] }),
        shellTask('maybe', 'true', { needs: ['gate'], when: "tasks.gate.outputs.go == 'yes'" }),
        shellTask('dep', 'true', { needs: ['maybe'] }),
        shellTask('always', 'true', { needs: ['maybe'], runIfSkipped: true }),
      ]),
    );
    const run = await engine.execute(runId);
    expect(run.status).toBe('succeeded');
    expect(store.getTask(runId, 'maybe')).toMatchObject({ state: 'skipped', reason: 'condition_false' });
    expect(store.getTask(runId, 'dep')).toMatchObject({ state: 'skipped', reason: 'dependency_skipped' });
    expect(store.getTask(runId, 'always').state).toBe('succeeded');
  });

  it('opens the circuit after consecutive runner errors and fails fast during the cool-down', async () => {
    const { engine, store, runner } = setup({
      breaker: { threshold: 2, coolDownMs: 60_000 },
      concurrency: 1,
    });
    const tasks = ['t1', 't2', 't3', 't4'].map((id) =>
      shellTask(id, 'true', { action: { type: 'argv', argv: ['/nonexistent/binary'] } }),
    );
    const runId = await engine.submit(planOf(tasks));
    await engine.execute(runId);
    expect(runner.started).toEqual(['t1#1', 't2#1']);
    const reasons = tasks.map((t) => store.getTask(runId, t.id).reason);
    expect(reasons).toEqual(['runner_error', 'runner_error', 'circuit_open', 'circuit_open']);
  });

  it('reuses outputs and artifacts on a cache hit, and misses when inputs change', async () => {
    const { engine, store, runner } = setup();
    const task = (msg: string) =>
      shellTask('build', `echo "out=${msg}" >> "$MAESTRO_OUTPUT"; echo ${msg} > file.txt`, {
        cache: { enabled: true },
        outputs: ['out'],
        artifacts: ['file.txt'],
      });
    const first = await engine.submit(planOf([task('one')]));
    await engine.execute(first);
    const second = await engine.submit(planOf([task('one')]));
    await engine.execute(second);
    expect(store.getTask(second, 'build')).toMatchObject({ state: 'cached', reason: 'cache_hit' });
    expect(store.getTask(second, 'build').cacheKey).toBe(store.getTask(first, 'build').cacheKey);
    expect(store.taskOutputs(second, 'build')).toEqual({ out: 'one' });
    const cachedAttempt = store.listAttempts(second, 'build')[0]!;
    expect(readFileSync(join(cachedAttempt.artifactsDir, 'file.txt'), 'utf8')).toBe('one\n');
    const third = await engine.submit(planOf([task('two')]));
    await engine.execute(third);
    expect(store.getTask(third, 'build').state).toBe('succeeded');
    expect(runner.started).toEqual(['build#1', 'build#1']);
  });

  it('runs a user retry of only the failed part, keeping the history', async () => {
    const { engine, store } = setup();
    const runId = await engine.submit(
      planOf([
        shellTask('ok', 'true'),
        // Fails the first time, succeeds the second: the witness counts the attempts.
        shellTask('fix', `[ "$(echo x | ${witness.report('fix')})" -ge 2 ]`, { needs: ['ok'] }),
        shellTask('end', 'true', { needs: ['fix'] }),
      ]),
      { trust: 'trusted' },
    );
    expect((await engine.execute(runId)).status).toBe('failed');
    await engine.retry(runId, { by: 'user:bob' });
    expect((await engine.execute(runId)).status).toBe('succeeded');
    expect(store.listAttempts(runId, 'ok')).toHaveLength(1);
    expect(store.listAttempts(runId, 'fix').map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
    expect(store.listTransitions(runId, 'end').map((t) => t.to)).toEqual([
      'queued',
      'skipped',
      'queued',
      'ready',
      'running',
      'succeeded',
    ]);
  });

  it('redacts secrets from logs, outputs and errors', async () => {
    const { engine, store } = setup({ secrets: { TOKEN: 's3cr3t-value' } });
    const runId = await engine.submit(
      planOf([
        shellTask(
          'leak',
          'echo "token is $MAESTRO_EXPR_0"; echo "t=$MAESTRO_EXPR_0" >> "$MAESTRO_OUTPUT"; exit 1',
          {
            env: { MAESTRO_EXPR_0: '${secrets.TOKEN}' },
            secrets: ['TOKEN'],
            outputs: ['t'],
          },
        ),
      ]),
      { trust: 'trusted' }, // only a trusted run's tasks get secrets
    );
    await engine.execute(runId);
    const text = JSON.stringify([store.listLogs(runId), store.listAttempts(runId)]);
    expect(text).toContain('token is ***');
    expect(text).not.toContain('s3cr3t-value');
    expect(store.listAttempts(runId, 'leak')[0]!.outputs).toEqual({ t: '***' });
    expect(store.listAttempts(runId, 'leak')[0]!.inputs).toMatchObject({ env: { MAESTRO_EXPR_0: '***' } });
  });
});
