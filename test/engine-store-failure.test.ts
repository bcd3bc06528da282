/**
 * A store failure under a running execution: the worker gives the run up and writes nothing more,
 * so whatever it was doing when the read or write failed cannot be recorded as the task's fault.
 * Found by the PostgreSQL restart drill (test/replicas-kill.test.ts): a read of a need's outputs
 * lost its connection while the server restarted, the execution gave the run up, and then the
 * attempt's preparation stored "failed" for the task once the server was back, failing a run that
 * nothing was wrong with. The next claim must finish the run from what was stored. The same drill
 * found the shared decision log's append losing its connection: that blocked the task for good
 * (blocked_by_policy, policy_unavailable) where it should give the run up and ask again.
 */
import { describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry, type PolicyGate } from '../core/index.ts';
import { DecisionLogError } from '../policy/index.ts';
import { asyncSqliteStore, createEngine, openStore, type AsyncStore } from '../engine/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

/**
 * The store, with the first read of b's preparation that it turns into a failure of its own (the
 * attempts of its need a, to receive a's artifacts) failing as a dropped connection does, on any
 * fenced view. The drill's read was of a need's outputs, which the execution that stored a's
 * result now keeps (engine/run-inputs.ts) instead of reading.
 */
function droppingOnce(store: AsyncStore, state = { dropped: false }): AsyncStore {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (name === 'fenced')
        return (fence: Parameters<AsyncStore['fenced']>[0]) => droppingOnce(target.fenced(fence), state);
      return async (...args: unknown[]) => {
        if (name === 'listAttempts' && args[1] === 'a' && !state.dropped) {
          state.dropped = true;
          throw new Error('Connection terminated unexpectedly');
        }
        return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      };
    },
  });
}

describe('a store failure under an execution', () => {
  it('gives the run up without failing the task it was preparing, and the next claim finishes it', async () => {
    const dataDir = tempDir();
    const store = asyncSqliteStore(openStore({ dataDir }));
    const engine = createEngine({
      policy: policyOff('engine test: store failures, not policy'),
      store: droppingOnce(store),
      dataDir,
      runners: new RunnerRegistry().register(recordingLocalRunner()),
      leaseMs: 60_000,
    });
    try {
      const plan = planOf([
        shellTask('a', 'echo "n=1" >> "$MAESTRO_OUTPUT" && echo a > out.txt', {
          outputs: ['n'],
          artifacts: ['out.txt'],
        }),
        shellTask('b', 'echo b', { needs: ['a'] }),
      ]);
      const runId = await engine.submit(plan, { actor: 'tester', trust: 'trusted' });
      const given = await engine.execute(runId);
      expect(given.status).toBe('running');
      const b = (await store.listTasks(runId)).find((t) => t.taskId === 'b');
      // Before the fix: failed (runner_error, "cannot prepare the workspace: Connection terminated
      // unexpectedly"); checked again with the fenced store's given-up refusal (run-lease.ts) removed.
      expect(b?.state).toBe('ready');
      const history = await store.listTransitions(runId);
      expect(history.filter((t) => t.to === 'failed')).toEqual([]);

      const finished = await engine.execute(runId);
      expect(finished.status).toBe('succeeded');
    } finally {
      await store.close();
    }
  });

  it('gives the run up when the decision log loses its connection, and asks policy again on the next claim', async () => {
    const dataDir = tempDir();
    const store = asyncSqliteStore(openStore({ dataDir }));
    const asked: string[] = [];
    let appends = 0;
    // The gate as the OPA gate behaves on PostgreSQL: allow, but the log's first append is lost.
    const gate: PolicyGate = {
      decide: async (_input, correlation) => {
        asked.push(`${correlation.taskId}#${correlation.attempt}`);
        if (appends++ === 0)
          throw new DecisionLogError(
            'cannot record policy decision d-1: Connection terminated unexpectedly',
            {
              retryable: true,
            },
          );
        return {
          decisionId: `d-${appends}`,
          allow: true,
          reasons: [],
          unavailable: false,
          bundleDigest: 'b',
          inputDigest: 'i',
        };
      },
    };
    const engine = createEngine({
      policy: gate,
      store,
      dataDir,
      runners: new RunnerRegistry().register(recordingLocalRunner()),
      leaseMs: 60_000,
    });
    try {
      const runId = await engine.submit(planOf([shellTask('a', 'echo a')]), {
        actor: 'tester',
        trust: 'trusted',
      });
      expect((await engine.execute(runId)).status).toBe('running');
      // Before the fix: blocked_by_policy (policy_unavailable), and the run failed. Now nothing of
      // the start is stored: it was held for the attempt's start (engine/run-writer.ts).
      expect((await store.listTasks(runId))[0]?.state).toBe('queued');
      expect((await store.getRun(runId)).status).toBe('queued');
      expect((await engine.execute(runId)).status).toBe('succeeded');
      expect(asked).toEqual(['a#1', 'a#1']);
    } finally {
      await store.close();
    }
  });

  it('still blocks the task when policy fails in a way asking again would not mend', async () => {
    const dataDir = tempDir();
    const store = asyncSqliteStore(openStore({ dataDir }));
    const gate: PolicyGate = {
      decide: async () => {
        throw new DecisionLogError('cannot record policy decision d-1: the chain does not continue');
      },
    };
    const engine = createEngine({
      policy: gate,
      store,
      dataDir,
      runners: new RunnerRegistry().register(recordingLocalRunner()),
      leaseMs: 60_000,
    });
    try {
      const runId = await engine.submit(planOf([shellTask('a', 'echo a')]), {
        actor: 'tester',
        trust: 'trusted',
      });
      expect((await engine.execute(runId)).status).toBe('failed');
      const [a] = await store.listTasks(runId);
      expect([a?.state, a?.reason]).toEqual(['blocked_by_policy', 'policy_unavailable']);
    } finally {
      await store.close();
    }
  });
});
