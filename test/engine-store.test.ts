import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import {
  openStore,
  LeaseLostError,
  StoreUnusableError,
  RunNotFoundError,
  StaleStateError,
} from '../engine/index.ts';
import { planOf, shellTask, tempDir } from './helpers/engine-fixtures.ts';

function storeWithRun() {
  const dataDir = tempDir();
  const store = openStore({ dataDir });
  const plan = planOf([shellTask('a', 'true')]);
  store.createRun({
    id: 'r1',
    workflow: 'wf',
    namespace: 'ns',
    planDigest: plan.digest,
    plan,
    params: {},
    trigger: 'manual',
    actor: 'me',
    priority: 0,
    createdAt: 1000,
    approvalDigest: null,
    by: 'me',
  });
  return { dataDir, store };
}

const finish = {
  outcome: 'succeeded',
  exitCode: 0,
  signal: null,
  retryable: false,
  reason: null,
  message: null,
  finishedAt: 2000,
  cacheHit: false,
  policyDecisionIds: [],
  outputs: { k: 'v' },
};

function start(store: ReturnType<typeof openStore>, id = 'att1', owner = 'w1') {
  return store.startAttempt({
    id,
    runId: 'r1',
    taskId: 'a',
    attempt: 1,
    startedAt: 1000,
    inputs: {},
    workDir: '/tmp/w',
    artifactsDir: '/tmp/a',
    cacheKey: null,
    owner,
    leaseMs: 500,
  });
}

describe('sqlite store', () => {
  it('refuses a corrupt database with a clear error and leaves the file untouched', () => {
    const dataDir = tempDir();
    const file = join(dataDir, 'maestro.db');
    writeFileSync(file, 'this is not a database, just some bytes '.repeat(200));
    const before = readFileSync(file);
    expect(() => openStore({ dataDir })).toThrow(StoreUnusableError);
    expect(() => openStore({ dataDir })).toThrow(/cannot be read \(corrupt or not a database\)/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('refuses a data dir that is a file', () => {
    const dir = tempDir();
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    expect(() => openStore({ dataDir: file })).toThrow(/is not a directory/);
  });

  it('refuses a database written by a newer schema', () => {
    const { dataDir, store } = storeWithRun();
    store.close();
    const db = new DatabaseSync(join(dataDir, 'maestro.db'));
    db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)').run();
    db.close();
    expect(() => openStore({ dataDir })).toThrow(/schema version 999, newer/);
  });

  it('opens a database from before placement savings were stored, its attempts saving nothing', () => {
    const { dataDir, store } = storeWithRun();
    store.transitionTask('r1', 'a', 'queued', 'ready', 'dependencies_met', 'e', 1000);
    const start = { id: 'x1', runId: 'r1', taskId: 'a', attempt: 1, startedAt: 1000, inputs: {} };
    const paths = { workDir: '/tmp/w', artifactsDir: '/tmp/a', cacheKey: null, owner: 'w', leaseMs: 500 };
    store.startAttempt({ ...start, ...paths, pricePerHour: 3600 });
    store.close();
    // Back to schema version 9, as a database written before the column was.
    const db = new DatabaseSync(join(dataDir, 'maestro.db'));
    db.exec(
      'ALTER TABLE attempts DROP COLUMN on_demand_per_hour; DELETE FROM schema_migrations WHERE version >= 10',
    );
    db.close();
    const reopened = openStore({ dataDir });
    const [row] = reopened.usage({ since: 0, until: 10_000, now: 2000, groupBy: 'namespace' });
    expect(row).toMatchObject({ namespace: 'ns', attempts: 1, actualCost: 1, savings: 0 });
    reopened.close();
  });

  it('reports an unknown run id as not found', () => {
    const { store } = storeWithRun();
    expect(() => store.getRun('nope')).toThrow(RunNotFoundError);
    expect(() => store.getRun('nope')).toThrow(/run "nope" was not found/);
  });

  it('stores the transition with a compare-and-set on the state', () => {
    const { store } = storeWithRun();
    store.transitionTask('r1', 'a', 'queued', 'ready', 'dependencies_met', 'engine', 1100);
    expect(() =>
      store.transitionTask('r1', 'a', 'queued', 'ready', 'dependencies_met', 'engine', 1100),
    ).toThrow(StaleStateError);
    expect(store.listTransitions('r1', 'a').map((t) => [t.from, t.to, t.reason])).toEqual([
      [null, 'queued', 'created'],
      ['queued', 'ready', 'dependencies_met'],
    ]);
  });

  it('makes a finished attempt immutable, even to direct SQL', () => {
    const { dataDir, store } = storeWithRun();
    const token = start(store);
    store.finishAttempt('att1', token, 1200, finish);
    expect(() => store.finishAttempt('att1', token, 1200, finish)).toThrow();
    const db = new DatabaseSync(join(dataDir, 'maestro.db'));
    expect(() => db.prepare("UPDATE attempts SET outcome = 'failed' WHERE id = 'att1'").run()).toThrow(
      /immutable/,
    );
    expect(() => db.prepare("DELETE FROM attempts WHERE id = 'att1'").run()).toThrow(/never deleted/);
    db.close();
    expect(store.listAttempts('r1', 'a')[0]).toMatchObject({ outcome: 'succeeded', outputs: { k: 'v' } });
  });

  it('fences a worker whose lease expired or was taken over', () => {
    const { store } = storeWithRun();
    const token = start(store);
    expect(() => store.finishAttempt('att1', token, 1000 + 501, finish)).toThrow(LeaseLostError);
    store.interruptAttempt('att1', 1600, 'worker died');
    expect(() => store.heartbeat('att1', token, 1601, 500)).toThrow(LeaseLostError);
    expect(store.listAttempts('r1', 'a')[0]).toMatchObject({ status: 'finished', outcome: 'interrupted' });
  });

  it('lists runs with filters', () => {
    const { store } = storeWithRun();
    expect(store.listRuns({ workflow: 'wf' }).map((r) => r.id)).toEqual(['r1']);
    expect(store.listRuns({ workflow: 'other' })).toEqual([]);
    expect(store.listRuns({ status: ['queued'], namespace: 'ns', since: 999, until: 1001 })).toHaveLength(1);
    expect(store.listRuns({ since: 1001 })).toHaveLength(0);
  });
});
