/**
 * A crash of the engine is not the task's failure: an attempt lost with its engine is
 * re-attempted on resume, apart from the task's retry limit and at most `reattempts` times,
 * unless the task says `onInterrupt: fail`. A crashed engine is simulated as in
 * engine-reattach.test.ts: its store is closed while an attempt is running (the attempt's
 * process died with it: its handle never reports) and its leases are left to expire. On SQLite
 * and on a real PostgreSQL (where a worker's lost lease is how replicas see a dead one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry, type Plan, type Runner } from '../core/index.ts';
import { createEngine, openAsyncStore, type AsyncStore, type Engine } from '../engine/index.ts';
import { createLocalRunner } from '../runners/index.ts';
import { planOf, shellTask, tempDir } from './helpers/engine-fixtures.ts';
import { startPostgres, type PostgresServer } from './setup/postgres-server.ts';

const local = createLocalRunner({ baseEnv: { PATH: '/usr/bin:/bin' } });
let postgres: PostgresServer | undefined;
let databases = 0;
beforeAll(async () => {
  postgres = await startPostgres();
}, 120_000);
afterAll(async () => {
  postgres?.stop();
  await local.close();
});

/** Where a test's run is stored: the data dir's SQLite, or a fresh PostgreSQL database. */
interface Backend {
  dataDir: string;
  open(): Promise<AsyncStore>;
}
const backends: Record<string, () => Backend> = {
  sqlite: () => {
    const dataDir = tempDir();
    return { dataDir, open: () => openAsyncStore({ dataDir }) };
  },
  postgres: () => {
    const dataDir = tempDir();
    const databaseUrl = postgres!.createDatabase(`reattempt_${++databases}`);
    return { dataDir, open: () => openAsyncStore({ dataDir, databaseUrl, poolSize: 4 }) };
  },
};

/**
 * Long enough that a resumed engine keeps its own leases through the stalls of a loaded CI
 * machine (at 300 ms, a stall of the event loop under load lost the resumed attempt's lease
 * before its result was written, about 3 runs in 15): each crash waits this out once.
 */
const LEASE_MS = 2_000;

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

function engineOn(store: AsyncStore, dataDir: string, lost: ReadonlySet<number>, reattempts?: number) {
  return createEngine({
    policy: policyOff('engine test: mechanics, not policy'),
    store,
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
  backend: Backend,
  start: { plan: Plan } | { runId: string },
  taskId: string,
  attempt: number,
): Promise<string> {
  const store = await backend.open();
  const engine: Engine = engineOn(store, backend.dataDir, new Set([attempt]));
  const runId = 'plan' in start ? await engine.submit(start.plan, { trust: 'trusted' }) : start.runId;
  void engine.execute(runId).catch(() => undefined);
  for (let waited = 0; ; waited += 20) {
    const t = await store.getTask(runId, taskId);
    if (t.state === 'running' && t.attempts === attempt) break;
    if (waited > 15_000) throw new Error(`${taskId} never ran attempt ${attempt}: ${t.state} [${t.reason}]`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await store.close();
  await new Promise((r) => setTimeout(r, LEASE_MS + 150));
  return runId;
}

async function resume(backend: Backend, runId: string, reattempts?: number) {
  const store = await backend.open();
  const run = await engineOn(store, backend.dataDir, new Set(), reattempts).resume(runId);
  return { run, store };
}

describe.each(Object.keys(backends))('re-attempts after an engine crash (%s)', (kind) => {
  const fresh = backends[kind]!;
  it('a task with retry limit 0 interrupted by a crash gets a new attempt and succeeds', async () => {
    const backend = fresh();
    const plan = planOf([shellTask('a', 'true'), shellTask('b', 'true', { needs: ['a'] })]);
    const runId = await crashAt(backend, { plan }, 'a', 1);
    const { run, store } = await resume(backend, runId);
    expect(run.status).toBe('succeeded');
    expect((await store.listAttempts(runId, 'a')).map((a) => a.outcome)).toEqual([
      'interrupted',
      'succeeded',
    ]);
    const requeue = (await store.listTransitions(runId, 'a')).find(
      (t) => t.from === 'running' && t.to === 'queued',
    );
    expect(requeue).toMatchObject({ reason: 'reattempt_scheduled' });
    expect(requeue!.detail).toContain('re-attempt 1 of at most 3');
    await store.close();
  });

  it('onInterrupt: fail fails the task with reason interrupted and skips its dependants', async () => {
    const backend = fresh();
    const plan = planOf([
      // Retries left do not matter: a step that must never run twice is not run again by a crash.
      shellTask('deploy', 'true', {
        onInterrupt: 'fail',
        retry: { limit: 2, backoff: { initialMs: 10, factor: 2, maxMs: 10 }, jitter: 'none' },
      }),
      shellTask('after', 'true', { needs: ['deploy'] }),
    ]);
    const runId = await crashAt(backend, { plan }, 'deploy', 1);
    const { run, store } = await resume(backend, runId);
    expect(run.status).toBe('failed');
    expect(await store.getTask(runId, 'deploy')).toMatchObject({ state: 'failed', reason: 'interrupted' });
    expect((await store.listAttempts(runId, 'deploy')).map((a) => a.outcome)).toEqual(['interrupted']);
    expect(await store.getTask(runId, 'after')).toMatchObject({
      state: 'skipped',
      reason: 'dependency_failed',
    });
    expect(await store.listAttempts(runId, 'after')).toEqual([]);
    await store.close();
  });

  it('the cap: a task interrupted more often than `reattempts` fails with reason interrupted', async () => {
    const backend = fresh();
    const plan = planOf([shellTask('loop', 'true')]);
    const runId = await crashAt(backend, { plan }, 'loop', 1);
    // The resumed engine (cap 1) re-attempts once, then crashes again during that re-attempt.
    await crashAt(backend, { runId }, 'loop', 2);
    const { run, store } = await resume(backend, runId, 1);
    expect(run.status).toBe('failed');
    expect(await store.getTask(runId, 'loop')).toMatchObject({ state: 'failed', reason: 'interrupted' });
    expect((await store.listAttempts(runId, 'loop')).map((a) => a.outcome)).toEqual([
      'interrupted',
      'interrupted',
    ]);
    const last = (await store.listTransitions(runId, 'loop')).at(-1)!;
    expect(last.detail).toBe('interrupted 2 times; re-attempt cap 1');
    await store.close();
  });

  it("re-attempts leave the task's own retry count alone: limit 1, interrupted once, then failing, still gets its retry", async () => {
    const backend = fresh();
    const retry = { limit: 1, backoff: { initialMs: 10, factor: 2, maxMs: 10 }, jitter: 'none' as const };
    const plan = planOf([shellTask('flaky', 'exit 1', { retry })]);
    const runId = await crashAt(backend, { plan }, 'flaky', 1);
    const { run, store } = await resume(backend, runId);
    expect(run.status).toBe('failed');
    expect((await store.listAttempts(runId, 'flaky')).map((a) => a.outcome)).toEqual([
      'interrupted',
      'failed',
      'failed',
    ]);
    expect(await store.getTask(runId, 'flaky')).toMatchObject({
      state: 'failed',
      reason: 'retries_exhausted',
    });
    const reasons = (await store.listTransitions(runId, 'flaky')).map((t) => t.reason);
    expect(reasons).toContain('reattempt_scheduled');
    expect(reasons).toContain('retry_scheduled');
    await store.close();
  });
});

describe('the re-attempt cap', () => {
  it('refuses one that is not a whole number of at least 0', async () => {
    const dataDir = tempDir();
    const store = await openAsyncStore({ dataDir });
    expect(() => engineOn(store, dataDir, new Set(), -1)).toThrow(/reattempts must be a whole number/);
    expect(() => engineOn(store, dataDir, new Set(), 1.5)).toThrow(/reattempts must be a whole number/);
    await store.close();
  });
});
