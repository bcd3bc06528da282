/**
 * A dependant's dispatch context takes its needs' outputs from the results its execution stored,
 * not from a read of the store per need (1,900 reads of two statements each on the 1,000-task
 * bench graph); outputs stored by an earlier execution are still read from the store.
 */
import { describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry } from '../core/index.ts';
import { asyncSqliteStore, createEngine, openStore, type AsyncStore } from '../engine/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

/** The store, counting `taskOutputs` reads (its fenced views too). */
function counting(base: AsyncStore, reads: string[]): AsyncStore {
  return {
    ...base,
    fenced: (fence) => counting(base.fenced(fence), reads),
    taskOutputs: (runId, taskId) => {
      reads.push(taskId);
      return base.taskOutputs(runId, taskId);
    },
  };
}

describe('needs’ outputs', () => {
  it('come from the results this execution stored; a later execution reads them from the store', async () => {
    const dataDir = tempDir();
    const sqlite = openStore({ dataDir });
    const runner = recordingLocalRunner();
    const reads: string[] = [];
    const engine = createEngine({
      policy: policyOff('engine test: outputs, not policy'),
      store: counting(asyncSqliteStore(sqlite), reads),
      dataDir,
      runners: new RunnerRegistry().register(runner),
      leaseMs: 60_000,
    });
    try {
      const plan = planOf([
        shellTask('a', 'echo "z=last" >> "$MAESTRO_OUTPUT"; echo "greeting=hello" >> "$MAESTRO_OUTPUT"', {
          outputs: ['greeting', 'z'],
        }),
        shellTask('b', 'echo "got $MAESTRO_EXPR_0"', {
          needs: ['a'],
          env: { MAESTRO_EXPR_0: '${tasks.a.outputs.greeting}' },
        }),
      ]);
      const runId = await engine.submit(plan, { trust: 'trusted' });
      expect((await engine.execute(runId)).status).toBe('succeeded');
      expect(sqlite.listLogs(runId, 'b').map((l) => l.text)).toContain('got hello');
      expect(reads).toEqual([]);
      // What a resumed execution reads back is what was kept: same values, same order.
      expect(Object.entries(sqlite.taskOutputs(runId, 'a'))).toEqual([
        ['greeting', 'hello'],
        ['z', 'last'],
      ]);
    } finally {
      await runner.close();
      sqlite.close();
    }
  });
});
