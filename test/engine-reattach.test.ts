/**
 * Resume with a runner that can re-attach (as a Kubernetes Job outlives the engine): the running
 * attempt is adopted, not interrupted, and its process runs once. The backend here is the real
 * local runner whose processes outlive a first engine that stops responding (its store closed,
 * its lease left to expire), which is how a crashed engine looks to the next one.
 */
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { policyOff, RunnerRegistry, type Runner, type RunnerHandle } from '../core/index.ts';
import { createEngine, openStore, asyncSqliteStore } from '../engine/index.ts';
import { createLocalRunner } from '../runners/index.ts';
import { planOf, shellTask, tempDir } from './helpers/engine-fixtures.ts';
import { startWitness } from './helpers/witness.ts';

const local = createLocalRunner({ baseEnv: { PATH: '/usr/bin:/bin' } });
afterAll(() => local.close());

/**
 * A backend keeping its attempts by id; `dead` hands the engine a handle that never reports back.
 * `cluster`: it places work (as the Kubernetes runner's clusters do) there, and records where
 * the engine asked it to re-attach.
 */
function backend(
  jobs: Map<string, RunnerHandle>,
  dead: boolean,
  cluster?: { name: string; reattachedOn: (string | undefined)[] },
): Runner {
  return {
    kind: 'local',
    ...(cluster ? { place: () => ({ placement: { cluster: cluster.name, namespace: 'ci' } }) } : {}),
    posture: () => local.posture({ resources: 'small', namespace: 'default' }),
    async start(request) {
      const handle = await local.start(request);
      jobs.set(request.attemptId, handle);
      if (!dead) return handle;
      return {
        logs: async function* () {},
        wait: () => new Promise(() => undefined),
        cancel: async () => undefined,
      };
    },
    reattach: async (ref, known) => {
      cluster?.reattachedOn.push(known?.placement?.cluster);
      return jobs.get(ref.attemptId);
    },
  };
}

describe('resume with a re-attaching runner', () => {
  it('adopts the running attempt instead of interrupting it', async () => {
    const dataDir = tempDir();
    // The task reports its start to a witness on 127.0.0.1 (the sandbox shows it no host file).
    const marks = await startWitness();
    onTestFinished(() => marks.close());
    const jobs = new Map<string, RunnerHandle>();
    const plan = planOf([
      shellTask(
        'job',
        `echo start | ${marks.report('marks')}; sleep 1.5; echo "done=yes" >> "$MAESTRO_OUTPUT"`,
        {
          outputs: ['done'],
        },
      ),
      shellTask('after', 'true', { needs: ['job'] }),
    ]);
    const firstStore = openStore({ dataDir });
    const first = createEngine({
      policy: policyOff('engine test: mechanics, not policy'),
      store: asyncSqliteStore(firstStore),
      dataDir,
      runners: new RunnerRegistry().register(backend(jobs, true)),
      leaseMs: 300,
    });
    const runId = await first.submit(plan, { trust: 'trusted' });
    void first.execute(runId).catch(() => undefined);
    // Started on its backend and stored as running. The same connection shows the engine's writes
    // before its group commit ends the turn (engine/store/sqlite/group-commit.ts): the crash below
    // comes after they are committed.
    while (jobs.size === 0 || firstStore.getTask(runId, 'job').state !== 'running')
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setImmediate(r));
    firstStore.close();
    await new Promise((r) => setTimeout(r, 400));

    const store = openStore({ dataDir });
    const second = createEngine({
      policy: policyOff('engine test: mechanics, not policy'),
      store: asyncSqliteStore(store),
      dataDir,
      runners: new RunnerRegistry().register(backend(jobs, false)),
    });
    const run = await second.resume(runId);
    expect(run.status).toBe('succeeded');
    const attempts = store.listAttempts(runId, 'job');
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([[1, 'succeeded']]);
    expect(attempts[0]!.outputs).toEqual({ done: 'yes' });
    expect(marks.reports('marks').map((r) => r.body)).toEqual(['start\n']);
    expect(store.listLogs(runId, 'job').map((l) => l.text)).toContain('re-attached to attempt 1');
    expect(store.getTask(runId, 'after').state).toBe('succeeded');
  });

  it('re-attaches where the attempt was recorded, not where today’s config would place it', async () => {
    const dataDir = tempDir();
    const jobs = new Map<string, RunnerHandle>();
    const plan = planOf([
      shellTask('job', 'sleep 1; echo "done=yes" >> "$MAESTRO_OUTPUT"', { outputs: ['done'] }),
    ]);
    const firstStore = openStore({ dataDir });
    const east = { name: 'east', reattachedOn: [] as (string | undefined)[] };
    const first = createEngine({
      policy: policyOff('engine test: mechanics, not policy'),
      store: asyncSqliteStore(firstStore),
      dataDir,
      runners: new RunnerRegistry().register(backend(jobs, true, east)),
      leaseMs: 300,
    });
    const runId = await first.submit(plan, { trust: 'trusted' });
    void first.execute(runId).catch(() => undefined);
    // Started on its backend and stored as running. The same connection shows the engine's writes
    // before its group commit ends the turn (engine/store/sqlite/group-commit.ts): the crash below
    // comes after they are committed.
    while (jobs.size === 0 || firstStore.getTask(runId, 'job').state !== 'running')
      await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setImmediate(r));
    firstStore.close();
    await new Promise((r) => setTimeout(r, 400));

    // The operator's config now places this task on west; the running attempt is on east.
    const store = openStore({ dataDir });
    const west = { name: 'west', reattachedOn: [] as (string | undefined)[] };
    const second = createEngine({
      policy: policyOff('engine test: mechanics, not policy'),
      store: asyncSqliteStore(store),
      dataDir,
      runners: new RunnerRegistry().register(backend(jobs, false, west)),
    });
    expect((await second.resume(runId)).status).toBe('succeeded');
    expect(west.reattachedOn).toEqual(['east']);
    expect(store.listAttempts(runId, 'job').map((a) => a.placement)).toEqual([
      { cluster: 'east', namespace: 'ci' },
    ]);
  });
});
