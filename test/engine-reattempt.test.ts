/**
 * A crash of the engine is not the task's failure: an attempt lost with its engine is
 * re-attempted on resume, apart from the task's retry limit and at most `reattempts` times,
 * unless the task says `onInterrupt: fail`. A crashed engine is simulated as in
 * engine-reattach.test.ts: its store is closed while an attempt is running (the attempt's
 * process died with it: its handle never reports) and its leases are left to expire.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry, type Plan, type Runner } from '../core/index.ts';
import { asyncSqliteStore, createEngine, openStore, type Engine } from '../engine/index.ts';

type SqliteStore = ReturnType<typeof openStore>;
import { createLocalRunner } from '../runners/index.ts';
import { planOf, shellTask, tempDir } from './helpers/engine-fixtures.ts';

const local = createLocalRunner({ baseEnv: { PATH: '/usr/bin:/bin' } });
afterAll(() => local.close());

const LEASE_MS = 300;

/** The real local runner, except that the attempts numbered in `lost` die with their engine. */
function runner(lost: ReadonlySet<number>): Runner {
  return {
    kind: 'local',
    posture: () => local.posture({ resources: 'small', namespace: 'default' }),
    async start(request) {
      if (!lost.has(request.attempt)) return local.start(request);
      return {
        logs: async function* () {},
        wait: () => new Promise(() => undefined),
        cancel: async () => undefined,
      };
    },
  };
}

function engineOn(store: SqliteStore, dataDir: string, lost: ReadonlySet<number>, reattempts?: number) {
  return createEngine({
    policy: policyOff('engine test: mechanics, not policy'),
    store: asyncSqliteStore(store),
    dataDir,
    runners: new RunnerRegistry().register(runner(lost)),
    leaseMs: LEASE_MS,
    ...(reattempts === undefined ? {} : { reattempts }),
  });
}

/**
 * Starts (or resumes) the run on an engine that "crashes" once `taskId` runs attempt `attempt`:
 * its store is closed under it and its leases left to expire.
 */
async function crashAt(
  dataDir: string,
  start: { plan: Plan } | { runId: string },
  taskId: string,
  attempt: number,
): Promise<string> {
  const store = openStore({ dataDir });
  const engine: Engine = engineOn(store, dataDir, new Set([attempt]));
  const runId = 'plan' in start ? await engine.submit(start.plan, { trust: 'trusted' }) : start.runId;
  void engine.execute(runId).catch(() => undefined);
  for (let waited = 0; ; waited += 20) {
    const t = store.getTask(runId, taskId);
    if (t.state === 'running' && t.attempts === attempt) break;
    if (waited > 15_000) throw new Error(`${taskId} never ran attempt ${attempt}: ${t.state} [${t.reason}]`);
    await new Promise((r) => setTimeout(r, 20));
  }
  store.close();
  await new Promise((r) => setTimeout(r, LEASE_MS + 150));
  return runId;
}

async function resume(dataDir: string, runId: string, reattempts?: number) {
  const store = openStore({ dataDir });
  const run = await engineOn(store, dataDir, new Set(), reattempts).resume(runId);
  return { run, store };
}

describe('re-attempts after an engine crash', () => {
  it('a task with retry limit 0 interrupted by a crash gets a new attempt and succeeds', async () => {
    const dataDir = tempDir();
    const plan = planOf([shellTask('a', 'true'), shellTask('b', 'true', { needs: ['a'] })]);
    const runId = await crashAt(dataDir, { plan }, 'a', 1);
    const { run, store } = await resume(dataDir, runId);
    expect(run.status).toBe('succeeded');
    expect(store.listAttempts(runId, 'a').map((a) => a.outcome)).toEqual(['interrupted', 'succeeded']);
    const requeue = store.listTransitions(runId, 'a').find((t) => t.from === 'running' && t.to === 'queued');
    expect(requeue).toMatchObject({ reason: 'reattempt_scheduled' });
    expect(requeue!.detail).toContain('re-attempt 1 of at most 3');
    store.close();
  });

  it('onInterrupt: fail fails the task with reason interrupted and skips its dependants', async () => {
    const dataDir = tempDir();
    const plan = planOf([
      // Retries left do not matter: a step that must never run twice is not run again by a crash.
      shellTask('deploy', 'true', {
        onInterrupt: 'fail',
        retry: { limit: 2, backoff: { initialMs: 10, factor: 2, maxMs: 10 }, jitter: 'none' },
      }),
      shellTask('after', 'true', { needs: ['deploy'] }),
    ]);
    const runId = await crashAt(dataDir, { plan }, 'deploy', 1);
    const { run, store } = await resume(dataDir, runId);
    expect(run.status).toBe('failed');
    expect(store.getTask(runId, 'deploy')).toMatchObject({ state: 'failed', reason: 'interrupted' });
    expect(store.listAttempts(runId, 'deploy').map((a) => a.outcome)).toEqual(['interrupted']);
    expect(store.getTask(runId, 'after')).toMatchObject({ state: 'skipped', reason: 'dependency_failed' });
    expect(store.listAttempts(runId, 'after')).toEqual([]);
    store.close();
  });

  it('the cap: a task interrupted more often than `reattempts` fails with reason interrupted', async () => {
    const dataDir = tempDir();
    const plan = planOf([shellTask('loop', 'true')]);
    const runId = await crashAt(dataDir, { plan }, 'loop', 1);
    // The resumed engine (cap 1) re-attempts once, then crashes again during that re-attempt.
    await crashAt(dataDir, { runId }, 'loop', 2);
    const { run, store } = await resume(dataDir, runId, 1);
    expect(run.status).toBe('failed');
    expect(store.getTask(runId, 'loop')).toMatchObject({ state: 'failed', reason: 'interrupted' });
    expect(store.listAttempts(runId, 'loop').map((a) => a.outcome)).toEqual(['interrupted', 'interrupted']);
    const last = store.listTransitions(runId, 'loop').at(-1)!;
    expect(last.detail).toBe('interrupted 2 times; re-attempt cap 1');
    store.close();
  });

  it("re-attempts leave the task's own retry count alone: limit 1, interrupted once, then failing, still gets its retry", async () => {
    const dataDir = tempDir();
    const retry = { limit: 1, backoff: { initialMs: 10, factor: 2, maxMs: 10 }, jitter: 'none' as const };
    const plan = planOf([shellTask('flaky', 'exit 1', { retry })]);
    const runId = await crashAt(dataDir, { plan }, 'flaky', 1);
    const { run, store } = await resume(dataDir, runId);
    expect(run.status).toBe('failed');
    expect(store.listAttempts(runId, 'flaky').map((a) => a.outcome)).toEqual([
      'interrupted',
      'failed',
      'failed',
    ]);
    expect(store.getTask(runId, 'flaky')).toMatchObject({ state: 'failed', reason: 'retries_exhausted' });
    const reasons = store.listTransitions(runId, 'flaky').map((t) => t.reason);
    expect(reasons).toContain('reattempt_scheduled');
    expect(reasons).toContain('retry_scheduled');
    store.close();
  });

  it('refuses a re-attempt cap that is not a whole number of at least 0', () => {
    const dataDir = tempDir();
    const store = openStore({ dataDir });
    expect(() => engineOn(store, dataDir, new Set(), -1)).toThrow(/reattempts must be a whole number/);
    store.close();
  });
});
