/**
 * The one Store contract, written once and run unchanged against every implementation of the
 * asynchronous port (sqlite.test.ts, postgres.test.ts). A harness gives each test a fresh, empty
 * database, a second independent connection to it (another worker), re-opening, and raw SQL
 * outside the store (to prove the database itself, not the store's code, refuses a write).
 */
import { describe, expect, it } from 'vitest';
import {
  LeaseLostError,
  RunNotFoundError,
  StaleStateError,
  StoreUnusableError,
  taskLeaseName,
  type AsyncStore,
  type NewRun,
} from '../../engine/index.ts';
import { NotFoundError } from '../../core/index.ts';
import { planOf, shellTask } from '../helpers/engine-fixtures.ts';
import { attemptResultContract } from './attempt-result-contract.ts';
import { budgetContract } from './budget-contract.ts';
import { runClaimContract } from './run-claim-contract.ts';
import { taskApprovalContract } from './task-approval-contract.ts';

export interface StoreDatabase {
  /** Opens a store on this database (a new connection, or pool, each call). */
  open(): Promise<AsyncStore>;
  /** Runs SQL directly on the database, outside any store. */
  sql(statement: string): Promise<void>;
}

export interface StoreHarness {
  /** A fresh, empty database. */
  database(): Promise<StoreDatabase>;
  /** The schema version whose migration made the label index (its upgrade test goes back before it). */
  labelsVersion: number;
}

export const finish = {
  outcome: 'succeeded',
  exitCode: 0,
  signal: null,
  retryable: false,
  reason: null,
  message: null,
  finishedAt: 2000,
  cacheHit: false,
  policyDecisionIds: ['d1'],
  outputs: { k: 'v', other: 'line1\nline2' },
};

export function newRun(id: string, createdAt: number, extra: Partial<NewRun> = {}): NewRun {
  const plan = planOf([
    shellTask('a', 'true'),
    shellTask('b', 'true', { needs: ['a'] }),
    shellTask('c', 'true'),
  ]);
  return {
    id,
    workflow: 'wf',
    namespace: 'ns',
    planDigest: plan.digest,
    plan,
    params: { p: 1, nested: { z: 1, a: [1, 'two'] } },
    trigger: 'manual',
    actor: 'me',
    priority: 0,
    createdAt,
    approvalDigest: null,
    by: 'me',
    ...extra,
  };
}

export function startOf(id: string, runId = 'r1', taskId = 'a', owner = 'w1') {
  return {
    id,
    runId,
    taskId,
    attempt: 1,
    startedAt: 1000,
    inputs: { x: 'y' },
    workDir: '/tmp/w',
    artifactsDir: '/tmp/a',
    cacheKey: null,
    owner,
    leaseMs: 500,
  };
}

const toReady = {
  from: 'queued',
  to: 'ready',
  reason: 'dependencies_met',
  by: 'engine',
  time: 1000,
} as const;

/** Runs `fn` with a store on a fresh database and closes it afterwards. */
export async function withStore<T>(
  harness: StoreHarness,
  fn: (s: AsyncStore, db: StoreDatabase) => Promise<T>,
): Promise<T> {
  const db = await harness.database();
  const store = await db.open();
  try {
    return await fn(store, db);
  } finally {
    await store.close();
  }
}

/** The version of the migration that creates run_labels, in a store's migration list. */
export function labelsVersion(migrations: readonly { version: number; sql: string }[]): number {
  const found = migrations.find((m) => m.sql.includes('CREATE TABLE run_labels'));
  if (!found) throw new Error('no migration creates run_labels');
  return found.version;
}

export function storeContract(name: string, harness: StoreHarness): void {
  describe(`store contract: ${name}`, () => {
    it('migrates an empty database and re-opens an existing one with its data', async () => {
      const db = await harness.database();
      const first = await db.open();
      await first.createRun(
        newRun('r1', 1000, { source: { repo: 'o/r', sha: 'a'.repeat(40) } as never, trust: 'trusted' }),
      );
      await first.close();
      const again = await db.open();
      try {
        const run = await again.getRun('r1');
        expect(run).toMatchObject({ status: 'queued', reason: 'created', trust: 'trusted' });
        expect(run.source).toEqual({ repo: 'o/r', sha: 'a'.repeat(40) });
      } finally {
        await again.close();
      }
    });

    it('migrates once when two processes open an empty database together', async () => {
      const db = await harness.database();
      const stores = await Promise.all([db.open(), db.open(), db.open()]);
      try {
        await stores[0]!.createRun(newRun('r1', 1000));
        expect((await stores[2]!.getRun('r1')).id).toBe('r1');
      } finally {
        for (const s of stores) await s.close();
      }
    });

    it('refuses a database whose schema is newer than this build, leaving it untouched', async () => {
      const db = await harness.database();
      await (await db.open()).close();
      await db.sql('INSERT INTO schema_migrations (version, applied_at) VALUES (999, 0)');
      await expect(db.open()).rejects.toThrow(StoreUnusableError);
      await expect(db.open()).rejects.toThrow(/schema version 999, newer than this maestro knows/);
    });

    it('round-trips a run, its tasks and its transitions', () =>
      withStore(harness, async (s) => {
        const input = newRun('r1', 1000);
        const created = await s.createRun(input);
        expect(created).toMatchObject({
          id: 'r1',
          status: 'queued',
          startedAt: null,
          trust: 'untrusted',
          source: null,
        });
        expect(JSON.stringify(created.plan)).toBe(JSON.stringify(input.plan)); // exact, key order too
        expect(created.params).toEqual(input.params);
        expect((await s.listTasks('r1')).map((t) => [t.taskId, t.position, t.state])).toEqual([
          ['a', 0, 'queued'],
          ['b', 1, 'queued'],
          ['c', 2, 'queued'],
        ]);
        await s.transitionRun('r1', 'queued', 'running', 'started', 'engine', 1100);
        await s.transitionTask(
          'r1',
          'a',
          'queued',
          'ready',
          'dependencies_met',
          'engine',
          1100,
          { notBefore: 5 },
          'why',
        );
        expect(await s.getTask('r1', 'a')).toMatchObject({ state: 'ready', notBefore: 5, updatedAt: 1100 });
        expect((await s.getRun('r1')).startedAt).toBe(1100);
        expect((await s.listTransitions('r1', null)).map((t) => [t.from, t.to])).toEqual([
          [null, 'queued'],
          ['queued', 'running'],
        ]);
        expect(await s.listTransitions('r1', 'a')).toEqual([
          expect.objectContaining({ from: null, to: 'queued', by: 'me' }),
          expect.objectContaining({ from: 'queued', to: 'ready', detail: 'why', time: 1100 }),
        ]);
        expect((await s.listTransitions('r1')).length).toBe(6);
        await s.transitionRun('r1', 'running', 'succeeded', 'all_tasks_succeeded', 'engine', 1200);
        expect((await s.getRun('r1')).finishedAt).toBe(1200);
      }));

    it('reads every run’s transitions in store order after an id, limited to namespaces', () =>
      withStore(harness, async (s) => {
        expect(await s.lastTransitionId()).toBe(0);
        await s.createRun(newRun('r1', 1000, { namespace: 'ns' }));
        await s.createRun(newRun('r2', 1000, { namespace: 'other' }));
        await s.transitionRun('r1', 'queued', 'running', 'started', 'e', 1100);
        const all = await s.listTransitionsAfter({ afterId: 0, limit: 100 });
        // Each run: its own queued and each of its 3 tasks' queued; then r1 running.
        expect(all.length).toBe(9);
        expect(all.map((t) => t.id)).toEqual([...all.map((t) => t.id)].sort((a, b) => a - b));
        expect(all.at(-1)).toMatchObject({ runId: 'r1', taskId: null, to: 'running', namespace: 'ns' });
        const ns = await s.listTransitionsAfter({ afterId: 0, limit: 100, namespaces: ['ns'] });
        expect(new Set(ns.map((t) => t.runId))).toEqual(new Set(['r1']));
        expect(ns.every((t) => t.namespace === 'ns' && t.workflow === 'wf')).toBe(true);
        const later = await s.listTransitionsAfter({ afterId: all[3]!.id, limit: 2 });
        expect(later.map((t) => t.id)).toEqual([all[4]!.id, all[5]!.id]);
        expect(await s.listTransitionsAfter({ afterId: 0, limit: 10, namespaces: [] })).toEqual([]);
        expect(await s.lastTransitionId()).toBe(all.at(-1)!.id);
      }));

    it('refuses stale compare-and-set transitions and unknown runs', () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        await expect(s.transitionRun('r1', 'running', 'failed', 'task_failed', 'x', 1)).rejects.toThrow(
          StaleStateError,
        );
        await expect(s.transitionTask('r1', 'a', 'ready', 'running', 'started', 'x', 1)).rejects.toThrow(
          StaleStateError,
        );
        await expect(s.getRun('nope')).rejects.toThrow(RunNotFoundError);
        await expect(s.transitionRun('nope', 'queued', 'running', 'started', 'x', 1)).rejects.toThrow(
          RunNotFoundError,
        );
        await expect(s.requestRunCancel('nope', 'x')).rejects.toThrow(RunNotFoundError);
        expect((await s.listTransitions('r1')).length).toBe(4); // nothing half-written
      }));

    it('creates a gated run waiting for approval in one write, and releases it with its attestation digest', () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000, { awaitApproval: true }));
        expect(await s.getRun('r1')).toMatchObject({
          status: 'waiting_for_approval',
          reason: 'approval_required',
          approvalDigest: null,
        });
        // Never queued, not even for an instant: a worker polling for queued runs cannot see it.
        expect(await s.listRuns({ status: ['queued'] })).toEqual([]);
        const created = await s.listTransitions('r1', null);
        expect(created.map((t) => [t.from, t.to, t.reason])).toEqual([
          [null, 'waiting_for_approval', 'approval_required'],
        ]);
        expect((await s.listTasks('r1')).map((t) => t.state)).toEqual(['queued', 'queued', 'queued']);
        await s.transitionRun('r1', 'waiting_for_approval', 'queued', 'approval_granted', 'alice', 2000, {
          approvalDigest: 'sha256:' + 'b'.repeat(64),
        });
        expect(await s.getRun('r1')).toMatchObject({
          status: 'queued',
          reason: 'approval_granted',
          approvalDigest: 'sha256:' + 'b'.repeat(64),
        });
        // A later transition without a patch keeps the digest.
        await s.transitionRun('r1', 'queued', 'running', 'started', 'engine', 3000);
        expect((await s.getRun('r1')).approvalDigest).toBe('sha256:' + 'b'.repeat(64));
      }));

    it('pages runs by (created, id) keyset, newest first, limited to namespaces', () =>
      withStore(harness, async (s) => {
        for (const [id, at, ns] of [
          ['r1', 1000, 'ns'],
          ['r3', 1000, 'ns'],
          ['r2', 1000, 'other'],
          ['r0', 900, 'ns'],
          ['r4', 2000, 'ns'],
        ] as const)
          await s.createRun(newRun(id, at, { namespace: ns }));
        const ids = async (f: Parameters<typeof s.listRuns>[0]) => (await s.listRuns(f)).map((r) => r.id);
        expect(await ids({ before: null })).toEqual(['r4', 'r3', 'r2', 'r1', 'r0']);
        expect(await ids({ before: null, limit: 2 })).toEqual(['r4', 'r3']);
        expect(await ids({ before: { createdAt: 1000, id: 'r3' }, limit: 2 })).toEqual(['r2', 'r1']);
        expect(await ids({ before: { createdAt: 1000, id: 'r1' } })).toEqual(['r0']);
        expect(await ids({ before: null, namespaces: ['ns'] })).toEqual(['r4', 'r3', 'r1', 'r0']);
        expect(await ids({ before: null, namespaces: [] })).toEqual([]);
      }));

    it('lists the runs whose workflow has every label asked for, in keyset pages', () =>
      withStore(harness, async (s) => {
        const labelled = (id: string, at: number, labels: Record<string, string>) => {
          const run = newRun(id, at);
          return { ...run, plan: { ...run.plan, workflow: { ...run.plan.workflow, labels } } };
        };
        await s.createRun(labelled('r1', 1000, { team: 'data', tier: 'gold' }));
        await s.createRun(labelled('r2', 1001, { team: 'data' }));
        await s.createRun(labelled('r3', 1002, { team: 'web', tier: 'gold' }));
        await s.createRun(labelled('r4', 1003, { 'app.kubernetes.io/part-of': 'etl' }));
        await s.createRun(newRun('r5', 1004)); // no labels
        const ids = async (f: Parameters<typeof s.listRuns>[0]) => (await s.listRuns(f)).map((r) => r.id);
        expect(await ids({ labels: { team: 'data' } })).toEqual(['r2', 'r1']);
        expect(await ids({ labels: { team: 'data', tier: 'gold' } })).toEqual(['r1']);
        expect(await ids({ labels: { tier: 'gold' }, before: null, limit: 1 })).toEqual(['r3']);
        expect(await ids({ labels: { tier: 'gold' }, before: { createdAt: 1002, id: 'r3' } })).toEqual([
          'r1',
        ]);
        expect(await ids({ labels: { 'app.kubernetes.io/part-of': 'etl' } })).toEqual(['r4']);
        expect(await ids({ labels: { team: 'dat' } })).toEqual([]); // exact values, not prefixes
        expect(await ids({ labels: {} })).toEqual(['r5', 'r4', 'r3', 'r2', 'r1']);
      }));

    it('filters by label through the run_labels index, backfilled from the runs stored before it', async () => {
      const db = await harness.database();
      const labelled = (id: string, at: number, labels: Record<string, string>) => {
        const run = newRun(id, at);
        return { ...run, plan: { ...run.plan, workflow: { ...run.plan.workflow, labels } } };
      };
      let s = await db.open();
      await s.createRun(labelled('r1', 1000, { team: 'data' }));
      await s.createRun(labelled('r2', 1001, { team: 'data', tier: 'gold' }));
      await s.createRun(newRun('r3', 1002));
      await s.close();
      // The filter reads the index, never the plan: with the index emptied, nothing matches.
      await db.sql('DELETE FROM run_labels');
      s = await db.open();
      expect((await s.listRuns({ labels: { team: 'data' } })).map((r) => r.id)).toEqual([]);
      await s.close();
      // A database from before the index (no table; neither its migration nor any newer one,
      // such as the placement baseline's column, recorded): opening it migrates and backfills
      // from each stored run's plan.
      await db.sql(
        'DROP TABLE run_labels; ALTER TABLE attempts DROP COLUMN on_demand_per_hour; ' +
          `DELETE FROM schema_migrations WHERE version >= ${harness.labelsVersion}`,
      );
      s = await db.open();
      try {
        const ids = async (f: Parameters<typeof s.listRuns>[0]) => (await s.listRuns(f)).map((r) => r.id);
        expect(await ids({ labels: { team: 'data' } })).toEqual(['r2', 'r1']);
        expect(await ids({ labels: { team: 'data', tier: 'gold' } })).toEqual(['r2']);
        expect(await ids({ labels: { team: 'data' }, before: { createdAt: 1001, id: 'r2' } })).toEqual([
          'r1',
        ]);
        await s.createRun(labelled('r4', 1003, { tier: 'gold' })); // written with the run after it
        expect(await ids({ labels: { tier: 'gold' } })).toEqual(['r4', 'r2']);
      } finally {
        await s.close();
      }
    });

    it('lists runs newest first, filtered, with a limit', () =>
      withStore(harness, async (s) => {
        // Same createdAt for several: the order is the insertion order, not the clock.
        for (const [id, at, ns] of [
          ['r1', 1000, 'ns'],
          ['r2', 1000, 'other'],
          ['r3', 900, 'ns'],
          ['r4', 2000, 'ns'],
        ] as const)
          await s.createRun(newRun(id, at, { namespace: ns }));
        await s.transitionRun('r3', 'queued', 'running', 'started', 'e', 1);
        expect((await s.listRuns()).map((r) => r.id)).toEqual(['r4', 'r3', 'r2', 'r1']);
        expect((await s.listRuns({ limit: 2 })).map((r) => r.id)).toEqual(['r4', 'r3']);
        expect((await s.listRuns({ namespace: 'ns', since: 950 })).map((r) => r.id)).toEqual(['r4', 'r1']);
        expect((await s.listRuns({ status: ['running'] })).map((r) => r.id)).toEqual(['r3']);
        expect((await s.listRuns({ status: ['queued', 'running'], until: 1000 })).map((r) => r.id)).toEqual([
          'r3',
          'r2',
          'r1',
        ]);
      }));

    it("lists the runs of one source commit (the API's `sha`), with the other filters", () =>
      withStore(harness, async (s) => {
        const at = (commit: string) => ({
          source: { kind: 'git' as const, repo: 'https://example.org/o/r', commit },
        });
        const [a, b] = ['a'.repeat(40), 'b'.repeat(40)];
        await s.createRun(newRun('r1', 1000, at(a)));
        await s.createRun(newRun('r2', 1001, at(b)));
        await s.createRun(newRun('r3', 1002, { ...at(a), namespace: 'other' }));
        await s.createRun(newRun('r4', 1003)); // no source
        const ids = async (filter: Parameters<typeof s.listRuns>[0]) =>
          (await s.listRuns(filter)).map((r) => r.id);
        expect(await ids({ sha: a })).toEqual(['r3', 'r1']);
        expect(await ids({ sha: a, namespace: 'ns' })).toEqual(['r1']);
        expect(await ids({ sha: b, before: null })).toEqual(['r2']);
        expect(await ids({ sha: 'c'.repeat(40) })).toEqual([]);
      }));

    it('records an attempt with its transition, result and outputs in one write each', () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        await s.transitionTask('r1', 'a', 'queued', 'ready', 'dependencies_met', 'e', 1000);
        const token = await s.startAttempt(startOf('att1'), {
          from: 'ready',
          to: 'running',
          reason: 'started',
          by: 'e',
          time: 1000,
          patch: { attempts: 1, firstStartedAt: 1000 },
        });
        expect(await s.listAttempts('r1', 'a')).toEqual([
          expect.objectContaining({
            status: 'running',
            fencingToken: token,
            inputs: { x: 'y' },
            outputs: {},
          }),
        ]);
        await s.heartbeat('att1', token, 1400, 500);
        await s.finishAttempt(
          'att1',
          token,
          1800,
          finish,
          { ...toReady, from: 'running', to: 'succeeded', reason: 'all_tasks_succeeded' },
          [{ taskId: 'b', write: toReady }],
        );
        const [attempt] = await s.listAttempts('r1');
        expect(attempt).toMatchObject({
          status: 'finished',
          outcome: 'succeeded',
          retryable: false,
          cacheHit: false,
        });
        expect(attempt!.policyDecisionIds).toEqual(['d1']);
        expect(attempt!.outputs).toEqual(finish.outputs);
        expect(await s.taskOutputs('r1', 'a')).toEqual(finish.outputs);
        expect((await s.listTasks('r1')).map((t) => t.state)).toEqual(['succeeded', 'ready', 'queued']);
        // A second result for the same attempt is refused, whatever the token.
        await expect(s.finishAttempt('att1', token, 1900, finish)).rejects.toThrow(LeaseLostError);
      }));

    it("starts no attempt when its task's move to running is refused, and moves no task when its lease is held", () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        const toRunning = { from: 'ready', to: 'running', reason: 'started', by: 'e', time: 1000 } as const;
        // a is still queued: the move is stale, nothing is written.
        await expect(s.startAttempt(startOf('att1'), toRunning)).rejects.toThrow(StaleStateError);
        await expect(s.startAttempt(startOf('att2', 'r1', 'nope'), toRunning)).rejects.toThrow(NotFoundError);
        expect(await s.listAttempts('r1')).toEqual([]);
        expect(await s.getLease('attempt:att1')).toBeUndefined();
        // a is ready, but another owner holds the attempt's lease: the task stays ready.
        await s.transitionTask('r1', 'a', 'queued', 'ready', 'dependencies_met', 'e', 1000);
        await s.acquireLease('attempt:att3', 'w2', 1000, 5000);
        await expect(s.startAttempt(startOf('att3'), toRunning)).rejects.toThrow(LeaseLostError);
        expect(await s.getTask('r1', 'a')).toMatchObject({ state: 'ready', attempts: 0 });
        expect((await s.listTransitions('r1', 'a')).map((t) => t.to)).toEqual(['queued', 'ready']);
        expect(await s.listAttempts('r1')).toEqual([]);
        const token = await s.startAttempt(startOf('att4'), { ...toRunning, patch: { attempts: 1 } });
        expect(await s.getTask('r1', 'a')).toMatchObject({ state: 'running', attempts: 1 });
        expect((await s.getLease('attempt:att4'))?.token).toBe(token);
      }));

    it("writes each moved task's own patch with a result, a null clearing its column, no patch leaving it", () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        await s.transitionTask('r1', 'a', 'queued', 'ready', 'dependencies_met', 'e', 1000, {
          notBefore: 900,
          cacheKey: 'old',
        });
        await s.transitionTask('r1', 'c', 'queued', 'skipped', 'dependency_failed', 'e', 1000, {
          notBefore: 50,
        });
        const token = await s.startAttempt(startOf('att1'), {
          from: 'ready',
          to: 'running',
          reason: 'started',
          by: 'e',
          time: 1000,
          patch: { attempts: 1, firstStartedAt: 1000 },
        });
        await s.finishAttempt(
          'att1',
          token,
          1200,
          finish,
          {
            from: 'running',
            to: 'ready',
            reason: 'retry_scheduled',
            by: 'e',
            time: 1200,
            patch: { attempts: 2, retryBase: 1, notBefore: null, cacheKey: 'new' },
          },
          [{ taskId: 'b', write: { ...toReady, time: 1200, patch: { notBefore: 7 } } }],
        );
        const [a, b, c] = await s.listTasks('r1');
        expect(a).toMatchObject({ state: 'ready', attempts: 2, retryBase: 1, firstStartedAt: 1000 });
        expect(a).toMatchObject({ notBefore: null, cacheKey: 'new', updatedAt: 1200 });
        expect(b).toMatchObject({
          state: 'ready',
          attempts: 0,
          notBefore: 7,
          cacheKey: null,
          updatedAt: 1200,
        });
        expect(c).toMatchObject({ state: 'skipped', notBefore: 50, updatedAt: 1000 });
        await s.transitionTask('r1', 'b', 'ready', 'skipped', 'dependency_failed', 'e', 1900, {
          notBefore: null,
        });
        expect(await s.getTask('r1', 'b')).toMatchObject({
          state: 'skipped',
          notBefore: null,
          updatedAt: 1900,
        });
      }));

    it('keeps a finished attempt immutable in the database itself (direct UPDATE and DELETE refused)', async () => {
      const db = await harness.database();
      const s = await db.open();
      try {
        await s.createRun(newRun('r1', 1000));
        const token = await s.startAttempt(startOf('att1'));
        await s.finishAttempt('att1', token, 1500, finish);
        await expect(db.sql(`UPDATE attempts SET outcome = 'failed' WHERE id = 'att1'`)).rejects.toThrow(
          /finished and immutable/,
        );
        await expect(db.sql(`DELETE FROM attempts WHERE id = 'att1'`)).rejects.toThrow(/never deleted/);
        expect((await s.listAttempts('r1'))[0]).toMatchObject({ outcome: 'succeeded' });
      } finally {
        await s.close();
      }
    });

    it("stores an attempt's checkpoint with its result (exactly as given, up to 1 MiB); null without one", () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        const big = JSON.stringify({ cursor: 600, note: 'é'.repeat(400_000), token: '***' });
        const t1 = await s.startAttempt(startOf('att1'));
        await s.finishAttempt('att1', t1, 1500, { ...finish, outcome: 'failed', state: big });
        const t2 = await s.startAttempt({ ...startOf('att2'), attempt: 2, startedAt: 1600 });
        await s.finishAttempt('att2', t2, 1700, finish);
        const t3 = await s.startAttempt(startOf('att3', 'r1', 'c'));
        await s.interruptAttempt('att3', 1800, 'engine died');
        expect(t3).toBeGreaterThan(0);
        const states = Object.fromEntries((await s.listAttempts('r1')).map((a) => [a.id, a.state]));
        expect(states).toEqual({ att1: big, att2: null, att3: null });
      }));

    it("fences results: a stale or expired token's writes are refused, the taker-over's land", () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        const stale = await s.startAttempt(startOf('att1'));
        await expect(s.heartbeat('att1', stale, 1600, 500)).rejects.toThrow(LeaseLostError); // expired at 1500
        await expect(s.finishAttempt('att1', stale, 1600, finish)).rejects.toThrow(LeaseLostError);
        const taken = await s.acquireLease('attempt:att1', 'w2', 1600, 500);
        expect(taken.token).toBeGreaterThan(stale);
        await expect(s.finishAttempt('att1', stale, 1700, finish)).rejects.toThrow(LeaseLostError);
        await expect(s.heartbeat('att1', stale, 1700, 500)).rejects.toThrow(LeaseLostError);
        expect((await s.listAttempts('r1'))[0]!.status).toBe('running');
        await s.finishAttempt('att1', taken.token, 1700, { ...finish, outputs: { by: 'w2' } });
        expect(await s.taskOutputs('r1', 'a')).toEqual({ by: 'w2' });
      }));

    it('interrupts an abandoned attempt by bumping its token, so the old worker is fenced out', () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        const token = await s.startAttempt(startOf('att1'));
        await s.interruptAttempt('att1', 1200, 'engine died');
        await expect(s.finishAttempt('att1', token, 1300, finish)).rejects.toThrow(LeaseLostError);
        expect((await s.listAttempts('r1'))[0]).toMatchObject({
          outcome: 'interrupted',
          retryable: true,
          message: 'engine died',
        });
        expect((await s.getLease('attempt:att1'))!.token).toBeGreaterThan(token);
      }));

    it('grants named leases only when free, expired or already held; release frees it', () =>
      withStore(harness, async (s) => {
        const a = await s.acquireLease('run:r1', 'w1', 1000, 100);
        await expect(s.acquireLease('run:r1', 'w2', 1050, 100)).rejects.toThrow(LeaseLostError);
        const renewed = await s.acquireLease('run:r1', 'w1', 1050, 100);
        expect(renewed.token).toBeGreaterThan(a.token);
        const forced = await s.acquireLease('run:r1', 'w2', 1060, 100, true);
        expect(forced).toMatchObject({ owner: 'w2', expiresAt: 1160 });
        await s.releaseLease('run:r1', 'w1'); // not the owner: no effect
        await expect(s.acquireLease('run:r1', 'w3', 1100, 100)).rejects.toThrow(LeaseLostError);
        await s.releaseLease('run:r1', 'w2');
        expect((await s.acquireLease('run:r1', 'w3', 1100, 100)).owner).toBe('w3');
        expect(await s.getLease('nothing')).toBeUndefined();
      }));

    it('claims ready tasks in priority order with a fenced lease, once per live lease', () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('low', 1000));
        await s.createRun(newRun('high', 1001, { priority: 5 }));
        for (const run of ['low', 'high'])
          await s.transitionTask(run, 'a', 'queued', 'ready', 'dependencies_met', 'e', 1000);
        await s.transitionTask('low', 'c', 'queued', 'ready', 'dependencies_met', 'e', 1000, {
          notBefore: 5000,
        });
        expect(await s.claimReadyTask('w1', 1000, 100)).toMatchObject({
          runId: 'high',
          taskId: 'a',
          owner: 'w1',
        });
        const low = await s.claimReadyTask('w2', 1000, 100);
        expect(low).toMatchObject({ runId: 'low', taskId: 'a' });
        expect(await s.claimReadyTask('w3', 1000, 100)).toBeNull(); // c waits for notBefore
        expect(await s.getLease(taskLeaseName('low', 'a'))).toMatchObject({ owner: 'w2', token: low!.token });
        // After the lease expires the task is claimable again, with a newer token.
        const again = await s.claimReadyTask('w3', 1200, 100);
        expect(again).toMatchObject({ owner: 'w3' });
        expect(again!.token).toBeGreaterThan(low!.token);
        expect((await s.claimReadyTask('w3', 6000, 100))?.taskId).toBeDefined();
      }));

    it("fences a claimed task's start: a paused worker's stale claim writes nothing", () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        await s.transitionTask('r1', 'a', 'queued', 'ready', 'dependencies_met', 'e', 1000);
        await s.transitionTask('r1', 'c', 'queued', 'ready', 'dependencies_met', 'e', 1000);
        const paused = (await s.claimReadyTask('w1', 1000, 100))!;
        expect(paused.taskId).toBe('a');
        // w1 stops past its claim; w2 claims the same task with a newer token.
        const current = (await s.claimReadyTask('w2', 1200, 100))!;
        expect(current).toMatchObject({ taskId: 'a', owner: 'w2' });
        const toRunning = { from: 'ready', to: 'running', reason: 'started', by: 'w', time: 1250 } as const;
        const late = { ...startOf('att-w1', 'r1', 'a', 'w1'), startedAt: 1250 };
        await expect(s.startClaimedAttempt(paused, late, toRunning)).rejects.toThrow(LeaseLostError);
        // A claim of one task cannot start another.
        const other = { ...startOf('att-x', 'r1', 'c', 'w2'), startedAt: 1250 };
        await expect(s.startClaimedAttempt(current, other, toRunning)).rejects.toThrow(LeaseLostError);
        expect(await s.listAttempts('r1')).toEqual([]);
        expect((await s.getTask('r1', 'a')).state).toBe('ready');
        const ok = { ...startOf('att-w2', 'r1', 'a', 'w2'), startedAt: 1250 };
        await s.startClaimedAttempt(current, ok, toRunning);
        expect((await s.listAttempts('r1')).map((a) => a.id)).toEqual(['att-w2']);
        expect((await s.getTask('r1', 'a')).state).toBe('running');
      }));

    it('never gives two concurrent workers the same task', async () => {
      const db = await harness.database();
      const [one, two] = [await db.open(), await db.open()];
      try {
        const runs = 10;
        for (let i = 0; i < runs; i++) {
          await one.createRun(newRun(`r${i}`, 1000 + i));
          for (const t of ['a', 'c'])
            await one.transitionTask(`r${i}`, t, 'queued', 'ready', 'dependencies_met', 'e', 1000);
        }
        // Each worker fires many claims at once (several pooled connections on PostgreSQL).
        const claimsOf = (store: AsyncStore, owner: string) =>
          Promise.all(Array.from({ length: 15 }, () => store.claimReadyTask(owner, 2000, 60_000)));
        const results = (await Promise.all([claimsOf(one, 'w1'), claimsOf(two, 'w2')])).flat();
        const claimed = results.filter((c) => c !== null).map((c) => `${c.runId}/${c.taskId}`);
        expect(claimed.length).toBe(runs * 2);
        expect(new Set(claimed).size).toBe(claimed.length);
        expect(results.filter((c) => c === null).length).toBe(30 - runs * 2);
      } finally {
        await one.close();
        await two.close();
      }
    });

    it('keeps logs, cache entries and receipts', () =>
      withStore(harness, async (s) => {
        await s.createRun(newRun('r1', 1000));
        await s.appendLogs([
          { runId: 'r1', taskId: null, attempt: null, stream: 'system', time: 1, text: 'run line' },
          { runId: 'r1', taskId: 'a', attempt: 1, stream: 'stdout', time: 2, text: 'one' },
          { runId: 'r1', taskId: 'a', attempt: 1, stream: 'stderr', time: 3, text: 'two' },
        ]);
        const all = await s.listLogs('r1');
        expect(all.map((l) => l.text)).toEqual(['run line', 'one', 'two']);
        expect((await s.listLogs('r1', 'a', all[1]!.id)).map((l) => l.text)).toEqual(['two']);
        expect((await s.listLogs('r1', null)).map((l) => l.stream)).toEqual(['system']);
        const entry = {
          key: 'k',
          runId: 'r1',
          taskId: 'a',
          attempt: 1,
          outputs: { o: '1' },
          artifactsDir: '/a',
          createdAt: 1,
          expiresAt: 100,
        };
        await s.putCacheEntry(entry);
        await s.putCacheEntry({ ...entry, outputs: { o: '2' } });
        expect((await s.getCacheEntry('k', 50))?.outputs).toEqual({ o: '2' });
        expect(await s.getCacheEntry('k', 100)).toBeUndefined();
        await s.putReceipt({
          runId: 'r1',
          taskId: 'a',
          attempt: 1,
          digest: 'sha256:x',
          bundle: { b: [1] },
          createdAt: 5,
        });
        await s.putReceipt({
          runId: 'r1',
          taskId: '',
          attempt: 0,
          digest: 'sha256:y',
          bundle: 'text',
          createdAt: 6,
        });
        expect((await s.listReceipts('r1')).map((r) => r.bundle)).toEqual([{ b: [1] }, 'text']);
        await expect(s.listReceipts('nope')).rejects.toThrow(RunNotFoundError);
        expect(await s.listReceiptDigests('r1')).toEqual([
          { taskId: 'a', attempt: 1, digest: 'sha256:x' },
          { taskId: '', attempt: 0, digest: 'sha256:y' },
        ]);
        await expect(s.listReceiptDigests('nope')).rejects.toThrow(RunNotFoundError);
        await s.requestRunCancel('r1', 'alice');
        expect(await s.runCancelRequestedBy('r1')).toBe('alice');
        await s.clearRunCancel('r1');
        expect(await s.runCancelRequestedBy('r1')).toBeNull();
      }));
    runClaimContract(harness);
    attemptResultContract(harness);
    budgetContract(harness);
    taskApprovalContract(harness);
  });
}
