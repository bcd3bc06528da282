/**
 * The artifacts a task receives count in its cache key, in its needs' order: not in the order its
 * needs happened to start. Two runs of the same tasks whose producers ran in opposite orders give
 * the consumer the same inputs, so the second is a cache hit. Real processes, the local runner.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { RunnerRegistry, policyOff, type PlanTask } from '../core/index.ts';
import { createEngine, openStore, asyncSqliteStore } from '../engine/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

const runners: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
});

const producer = (id: string): PlanTask => shellTask(id, `echo ${id} > out.txt`, { artifacts: ['out.txt'] });
const consumer = (): PlanTask =>
  shellTask('use', 'cat "$MAESTRO_ARTIFACTS"/a/out.txt "$MAESTRO_ARTIFACTS"/b/out.txt', {
    needs: ['a', 'b'],
    cache: { enabled: true },
  });

describe('the cache key of a task receiving artifacts', () => {
  it('does not depend on the order its needs started in', async () => {
    const dataDir = tempDir();
    const store = openStore({ dataDir });
    const runner = recordingLocalRunner();
    runners.push(runner);
    // One task at a time, in plan order: the first run starts a before b, the second b before a.
    const engine = createEngine({
      policy: policyOff('cache test: keys, not policy'),
      store: asyncSqliteStore(store),
      dataDir,
      runners: new RunnerRegistry().register(runner),
      concurrency: 1,
      leaseMs: 60_000,
    });
    const first = await engine.submit(planOf([producer('a'), producer('b'), consumer()]));
    await engine.execute(first);
    const second = await engine.submit(planOf([producer('b'), producer('a'), consumer()]));
    await engine.execute(second);

    const started = (runId: string) =>
      store
        .listAttempts(runId)
        .filter((a) => a.taskId !== 'use')
        .map((a) => a.taskId);
    expect(started(first)).toEqual(['a', 'b']);
    expect(started(second)).toEqual(['b', 'a']);
    expect(store.getTask(first, 'use').state).toBe('succeeded');
    expect(store.getTask(second, 'use').cacheKey).toBe(store.getTask(first, 'use').cacheKey);
    expect(store.getTask(second, 'use').state).toBe('cached');
  });
});
