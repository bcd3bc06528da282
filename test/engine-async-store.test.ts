/**
 * The engine on a store whose every call takes time, as PostgreSQL's do: each call of the SQLite
 * store resolves only after a few event-loop turns (a seeded, repeatable number of them), so
 * attempts finishing, dependants becoming ready, retries and the run's close all interleave while
 * their writes are in flight. The run's serial queue keeps every task's history legal and
 * complete: each stored transition starts where the previous one ended, each published event
 * matches a stored one, and nothing failed inside the engine. And a cancel that arrives while a
 * result is being written waits for it (the queue), instead of racing the dependant's transition
 * that result commits.
 */
import { describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry } from '../core/index.ts';
import {
  asyncSqliteStore,
  createEngine,
  openStore,
  type AsyncStore,
  type AsyncSqliteStore,
} from '../engine/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

/** The store, with each call settling after 0-5 turns of the event loop (seeded LCG). */
function slowStore(store: AsyncStore, seed = 7): AsyncStore {
  let state = seed;
  const turns = () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state % 6;
  };
  const later = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      // An execution's fenced view (engine/run-lease.ts) is as slow as the store itself.
      if (name === 'fenced')
        return (fence: Parameters<AsyncStore['fenced']>[0]) => slowStore(target.fenced(fence), state);
      return async (...args: unknown[]) => {
        await later(turns());
        const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        await later(turns());
        return result;
      };
    },
  });
}

describe('the engine on a store with latency', () => {
  it('keeps every task history legal through fan-out, fan-in, a failure, a retry and a user retry', async () => {
    const dataDir = tempDir();
    const sqlite = openStore({ dataDir });
    const runner = recordingLocalRunner();
    const engine = createEngine({
      policy: policyOff('engine test: ordering on a slow store, not policy'),
      store: slowStore(asyncSqliteStore(sqlite)),
      dataDir,
      runners: new RunnerRegistry().register(runner),
      concurrency: 4,
      leaseMs: 60_000,
    });
    const retry = { limit: 1, backoff: { initialMs: 1, factor: 1, maxMs: 1 }, jitter: 'none' as const };
    const fan = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6'];
    const plan = planOf([
      shellTask('a', 'echo "n=1" >> "$MAESTRO_OUTPUT"', { outputs: ['n'] }),
      ...fan.map((id) => shellTask(id, `echo ${id}`, { needs: ['a'] })),
      shellTask('c', 'echo c', { needs: fan }),
      // Fails twice (its retry too): its dependant is skipped, and a user retry re-opens both.
      shellTask('flaky', 'test -f flag || exit 1', { needs: ['a'], retry }),
      shellTask('after', 'echo after', { needs: ['flaky', 'c'] }),
    ]);
    const published: string[] = [];
    engine.subscribe((e) => {
      if (e.type === 'task') published.push(`${e.taskId}:${e.from}->${e.to}`);
    });
    try {
      const runId = await engine.submit(plan, { actor: 'tester', trust: 'trusted' });
      const first = await engine.execute(runId);
      expect(first.status).toBe('failed');
      await engine.retry(runId, { by: 'user:tester' });
      const second = await engine.execute(runId);
      expect(second.status).toBe('failed');

      const tasks = Object.fromEntries(sqlite.listTasks(runId).map((t) => [t.taskId, t.state]));
      expect(tasks).toEqual({
        a: 'succeeded',
        ...Object.fromEntries(fan.map((id) => [id, 'succeeded'])),
        c: 'succeeded',
        flaky: 'failed',
        after: 'skipped',
      });
      // Each task's stored history is a chain: every transition starts where the last one ended.
      for (const p of plan.tasks) {
        const chain = sqlite.listTransitions(runId, p.id);
        for (let i = 1; i < chain.length; i++) expect(chain[i]!.from, `${p.id} #${i}`).toBe(chain[i - 1]!.to);
      }
      expect(sqlite.listAttempts(runId, 'flaky')).toHaveLength(4);
      // What was published is what was stored, in each task's order (creation is the run's event).
      const stored = sqlite
        .listTransitions(runId)
        .filter((t) => t.taskId !== null && t.from !== null)
        .map((t) => `${t.taskId}:${t.from}->${t.to}`);
      for (const p of plan.tasks) {
        const mine = (list: string[]) => list.filter((x) => x.startsWith(`${p.id}:`));
        expect(mine(published), p.id).toEqual(mine(stored));
      }
      const logs = sqlite.listLogs(runId).map((l) => l.text);
      expect(logs.filter((t) => t.includes('internal error'))).toEqual([]);
      expect(logs).toEqual(expect.arrayContaining(['b1', 'b6', 'c']));
    } finally {
      await runner.close();
      sqlite.close();
    }
  });

  it('applies a cancel that arrives while a result is being stored after that result, not racing it', async () => {
    const dataDir = tempDir();
    const sqlite = openStore({ dataDir });
    const runner = recordingLocalRunner();
    const inner: AsyncSqliteStore = asyncSqliteStore(sqlite);
    // The first successful result is held at the store until released.
    let arrived!: () => void;
    const held = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let holding = true;
    const holdingResult = (base: AsyncStore): AsyncStore => ({
      ...base,
      // The execution writes through its fenced view (engine/run-lease.ts): it holds too.
      fenced: (fence) => holdingResult(base.fenced(fence)),
      finishAttempt: async (...args: Parameters<AsyncStore['finishAttempt']>) => {
        if (holding && args[4]?.to === 'succeeded') {
          holding = false;
          arrived();
          await released;
        }
        return base.finishAttempt(...args);
      },
    });
    const store = holdingResult(inner);
    const engine = createEngine({
      policy: policyOff('engine test: ordering on a slow store, not policy'),
      store,
      dataDir,
      runners: new RunnerRegistry().register(runner),
      leaseMs: 60_000,
    });
    try {
      const runId = await engine.submit(
        planOf([shellTask('a', 'echo a'), shellTask('c', 'echo c', { needs: ['a'] })]),
        { trust: 'trusted' },
      );
      const done = engine.execute(runId);
      await held; // a's result (with c becoming ready in the same transaction) is in flight
      const cancelling = engine.cancel(runId, { by: 'user:tester', taskId: 'c' });
      for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      release();
      await cancelling;
      const run = await done;
      expect(run.status).toBe('failed');
      expect(sqlite.getTask(runId, 'a').state).toBe('succeeded');
      expect(sqlite.listAttempts(runId, 'a').map((a) => a.outcome)).toEqual(['succeeded']);
      expect(sqlite.listTransitions(runId, 'c').map((t) => `${t.from}->${t.to}`)).toEqual([
        'null->queued',
        'queued->ready',
        'ready->cancelled',
      ]);
      expect(sqlite.listAttempts(runId, 'c')).toEqual([]);
      expect(sqlite.listLogs(runId).filter((l) => l.text.includes('internal error'))).toEqual([]);
    } finally {
      await runner.close();
      sqlite.close();
    }
  });
});
