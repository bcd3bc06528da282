/**
 * Every state change goes through one path (engine/transitions.ts): asserted, stored, then
 * published. For each kind of change the stored transitions and the events a subscriber saw are
 * the same list. Before: `retry` and the cancel of a run nobody executes wrote to the store
 * directly, so retry published nothing and that cancel only the run's own event.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { policyOff, RunnerRegistry } from '../core/index.ts';
import {
  createEngine,
  openStore,
  type Engine,
  type EngineEvent,
  type SqliteStore,
  type TransitionRecord,
  asyncSqliteStore,
} from '../engine/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';

const runners: { close(): Promise<void> }[] = [];
afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
});

function setup(): { engine: Engine; store: SqliteStore } {
  const dataDir = tempDir();
  const store = openStore({ dataDir });
  const runner = recordingLocalRunner();
  runners.push(runner);
  const engine = createEngine({
    policy: policyOff('transition test: state changes, not policy'),
    store: asyncSqliteStore(store),
    dataDir,
    runners: new RunnerRegistry().register(runner),
  });
  return { engine, store };
}

/** An event as the transition row it announces. */
function asRecord(event: EngineEvent): TransitionRecord | undefined {
  if (event.type === 'log') return undefined;
  return {
    runId: event.runId,
    taskId: event.type === 'task' ? event.taskId : null,
    from: event.from,
    to: event.to,
    reason: event.reason as TransitionRecord['reason'],
    by: event.by,
    time: event.time,
    detail: event.type === 'task' ? (event.detail ?? null) : null,
  };
}

/** Runs `act`, returning the transitions it stored and the ones its events announced. */
async function observe(
  engine: Engine,
  store: SqliteStore,
  runId: string,
  act: () => unknown,
): Promise<{ stored: TransitionRecord[]; announced: TransitionRecord[] }> {
  const before = store.listTransitions(runId).length;
  const announced: TransitionRecord[] = [];
  const off = engine.subscribe((event) => {
    const record = asRecord(event);
    if (record) announced.push(record);
  });
  try {
    await act();
  } finally {
    off();
  }
  return { stored: store.listTransitions(runId).slice(before), announced };
}

const failingPlan = () =>
  planOf([
    shellTask('ok', 'true'),
    shellTask('bad', 'exit 3'),
    shellTask('after', 'true', { needs: ['bad'] }),
  ]);

describe('one transition path', () => {
  it('an execution publishes every transition it stores (the baseline)', async () => {
    const { engine, store } = setup();
    const runId = await engine.submit(failingPlan(), { actor: 'alice' });
    const { stored, announced } = await observe(engine, store, runId, () => engine.execute(runId));
    expect(stored.length).toBeGreaterThan(5);
    expect(announced).toEqual(stored);
  });

  it('retry publishes the run and every reopened task, exactly as stored', async () => {
    const { engine, store } = setup();
    const runId = await engine.submit(failingPlan(), { actor: 'alice' });
    await engine.execute(runId);
    const { stored, announced } = await observe(engine, store, runId, () =>
      engine.retry(runId, { by: 'user:bob' }),
    );
    expect(stored.map((t) => [t.taskId, t.from, t.to, t.reason, t.by])).toEqual([
      [null, 'failed', 'queued', 'retried_by_user', 'user:bob'],
      ['bad', 'failed', 'queued', 'retried_by_user', 'user:bob'],
      ['after', 'skipped', 'queued', 'retried_by_user', 'user:bob'],
    ]);
    expect(announced).toEqual(stored);
    // The reopened tasks keep their attempt count (a retry continues the numbering).
    expect(store.getTask(runId, 'bad')).toMatchObject({ state: 'queued', attempts: 1, retryBase: 1 });
  });

  it('cancelling a run nobody executes publishes each task and the run, exactly as stored', async () => {
    const { engine, store } = setup();
    const runId = await engine.submit(failingPlan(), { actor: 'alice' });
    const { stored, announced } = await observe(engine, store, runId, () =>
      engine.cancel(runId, { by: 'user:carol' }),
    );
    expect(stored.map((t) => [t.taskId, t.from, t.to, t.reason, t.by])).toEqual([
      ['ok', 'queued', 'cancelled', 'cancel_requested', 'user:carol'],
      ['bad', 'queued', 'cancelled', 'cancel_requested', 'user:carol'],
      ['after', 'queued', 'cancelled', 'cancel_requested', 'user:carol'],
      [null, 'queued', 'cancelled', 'cancel_requested', 'user:carol'],
    ]);
    expect(announced).toEqual(stored);
  });
});
