/**
 * The store contract's replica part (called by store-contract.ts, so it runs unchanged on SQLite
 * and PostgreSQL): workers claim runs that need an executor, each claim under a fresh fencing
 * token, and a fenced view of the store refuses every write once another worker took the run's
 * lease over, so a paused worker's late writes change nothing.
 */
import { expect, it } from 'vitest';
import {
  LeaseLostError,
  StaleStateError,
  type AsyncStore,
  type RunTransitionWrite,
  type RunWrite,
  type TaskTransitionWrite,
} from '../../engine/index.ts';
import { finish, newRun, startOf, withStore, type StoreHarness } from './store-contract.ts';

const lease = (runId: string) => `run:${runId}`;

export function runClaimContract(harness: StoreHarness): void {
  it('claims queued runs by priority then age, and running ones only once their lease expired', () =>
    withStore(harness, async (s) => {
      await s.createRun(newRun('old', 1000));
      await s.createRun(newRun('urgent', 1001, { priority: 5 }));
      await s.createRun(newRun('done', 999));
      await s.transitionRun('done', 'queued', 'running', 'started', 'e', 1000);
      await s.transitionRun('done', 'running', 'succeeded', 'all_tasks_succeeded', 'e', 1000);
      await s.createRun(newRun('gated', 998));
      await s.transitionRun('gated', 'queued', 'waiting_for_approval', 'approval_required', 'e', 1000);
      const first = await s.claimRun('w1', 2000, 100);
      expect(first).toMatchObject({ name: lease('urgent'), owner: 'w1', expiresAt: 2100 });
      const second = await s.claimRun('w2', 2000, 100);
      expect(second).toMatchObject({ name: lease('old'), owner: 'w2' });
      // Finished and approval-gated runs need no executor; live leases are not taken.
      expect(await s.claimRun('w3', 2050, 100)).toBeNull();
      await s.transitionRun('old', 'queued', 'running', 'started', 'w2', 2010);
      // w2 dies: once its lease expires the running run is claimed again, under a newer token.
      await s.renewLease(lease('urgent'), first!.token, 2090, 1000);
      const taken = await s.claimRun('w3', 2200, 100);
      expect(taken).toMatchObject({ name: lease('old'), owner: 'w3' });
      expect(taken!.token).toBeGreaterThan(second!.token);
      expect(await s.claimRun('w3', 2200, 100)).toBeNull();
    }));

  it('hands over with a claim, when it reads the run with it, the run as a read after the claim sees it', () =>
    withStore(harness, async (s) => {
      await s.createRun(newRun('r1', 1000));
      await s.createRun(newRun('r2', 1001));
      // A write of the run's previous executor that committed before the claim is in what it hands over.
      await s.transitionRun('r2', 'queued', 'running', 'started', 'w0', 1010);
      const first = (await s.claimRun('w1', 1020, 100))!;
      const second = (await s.claimRun('w1', 1020, 100))!;
      for (const claimed of [first, second]) {
        const runId = claimed.name.slice('run:'.length);
        if (claimed.run !== undefined) expect(claimed.run).toEqual(await s.getRun(runId));
      }
      expect(second.run?.status ?? 'running').toBe('running');
      expect(await s.claimRun('w1', 1020, 100)).toBeNull();
    }));

  it("refuses a paused worker's writes once another worker took its run over, and only then", () =>
    withStore(harness, async (s) => {
      await s.createRun(newRun('r1', 1000));
      const mine = (await s.claimRun('w1', 1000, 100))!;
      const w1 = s.fenced({ name: mine.name, token: mine.token });
      await w1.transitionRun('r1', 'queued', 'running', 'started', 'w1', 1010);
      await w1.transitionTask('r1', 'a', 'queued', 'ready', 'dependencies_met', 'w1', 1010);
      // Late (past its lease) but not replaced: the token is still current, writes and renewals land.
      await w1.transitionTask('r1', 'c', 'queued', 'ready', 'dependencies_met', 'w1', 1200);
      await s.renewLease(mine.name, mine.token, 1200, 100);
      const attemptToken = await w1.startAttempt(startOf('att-a', 'r1', 'a', 'w1'), {
        from: 'ready',
        to: 'running',
        reason: 'started',
        by: 'w1',
        time: 1210,
      });
      // w1 pauses past its lease; w2 claims the run.
      const theirs = (await s.claimRun('w2', 1400, 100))!;
      expect(theirs).toMatchObject({ name: mine.name, owner: 'w2' });
      const refused = async (write: (store: AsyncStore) => Promise<unknown>) => {
        const error: unknown = await write(w1).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(LeaseLostError);
        expect((error as LeaseLostError).lease).toBe(mine.name);
      };
      await refused((x) => x.finishAttempt('att-a', 1, 1410, finish));
      await refused((x) => x.transitionTask('r1', 'c', 'ready', 'running', 'started', 'w1', 1410));
      await refused((x) => x.transitionRun('r1', 'running', 'failed', 'task_failed', 'w1', 1410));
      await refused((x) =>
        x.appendLogs([{ runId: 'r1', taskId: 'a', attempt: 1, stream: 'stdout', time: 1410, text: 'late' }]),
      );
      await refused((x) =>
        x.putReceipt({ runId: 'r1', taskId: 'a', attempt: 1, digest: 'sha256:l', bundle: {}, createdAt: 1 }),
      );
      const attemptLease = await s.getLease('attempt:att-a');
      await refused((x) => x.heartbeat('att-a', attemptToken, 1410, 500));
      expect(await s.getLease('attempt:att-a')).toEqual(attemptLease); // not extended
      await refused((x) => x.interruptAttempt('att-a', 1410, 'late'));
      await refused((x) => x.startAttempt(startOf('att-c', 'r1', 'c', 'w1')));
      await expect(s.renewLease(mine.name, mine.token, 1410, 100)).rejects.toThrow(LeaseLostError);
      // Nothing of it landed.
      expect((await s.getRun('r1')).status).toBe('running');
      expect((await s.getTask('r1', 'c')).state).toBe('ready');
      expect((await s.listAttempts('r1')).map((a) => [a.id, a.status])).toEqual([['att-a', 'running']]);
      expect(await s.listLogs('r1')).toEqual([]);
      expect(await s.listReceipts('r1')).toEqual([]);
      // The worker that took over writes under its own token.
      const w2 = s.fenced({ name: theirs.name, token: theirs.token });
      await w2.interruptAttempt('att-a', 1420, 'taken over');
      await w2.transitionTask('r1', 'c', 'ready', 'running', 'started', 'w2', 1420);
      expect((await s.listAttempts('r1'))[0]).toMatchObject({ status: 'finished', outcome: 'interrupted' });
      // A release under the old token leaves the new holder's lease alone.
      await s.releaseLease(mine.name, 'w1', mine.token);
      await s.releaseLease(theirs.name, 'w2', mine.token);
      expect(await s.getLease(mine.name)).toMatchObject({ owner: 'w2', expiresAt: 1500 });
    }));

  it("commits a run's start, its first ready tasks and an attempt start in one fenced transaction, all or nothing", () =>
    withStore(harness, async (s) => {
      await s.createRun(newRun('r1', 1000));
      const mine = (await s.claimRun('w1', 1000, 100))!;
      const w1 = s.fenced({ name: mine.name, token: mine.token });
      // Plain state names, as the stores' SQL compares them (the records' types are the engine's).
      const t = (from: string, to: string, reason: string, time = 1010) =>
        ({ from, to, reason, by: 'w1', time }) as unknown as TaskTransitionWrite & RunTransitionWrite;
      const start: RunWrite = { kind: 'run', write: t('queued', 'running', 'started') };
      const ready = (taskId: string): RunWrite => ({
        kind: 'task',
        taskId,
        write: t('queued', 'ready', 'dependencies_met'),
      });
      const attempt: RunWrite = {
        kind: 'attempt',
        start: startOf('att-a', 'r1', 'a', 'w1'),
        transition: t('ready', 'running', 'started', 1020),
      };
      const before = await s.listTransitions('r1');
      // A stale last write (c is not running) undoes the whole batch.
      const stale: RunWrite = { kind: 'task', taskId: 'c', write: t('running', 'succeeded', 'exit_zero') };
      await expect(w1.commitRunWrites('r1', [start, ready('a'), attempt, stale])).rejects.toThrow(
        StaleStateError,
      );
      expect((await s.getRun('r1')).status).toBe('queued');
      expect((await s.listTasks('r1')).map((x) => x.state)).toEqual(['queued', 'queued', 'queued']);
      expect(await s.listAttempts('r1')).toEqual([]);
      expect(await s.listTransitions('r1')).toEqual(before);
      // The whole start in one write: the attempt's token is its lease's.
      const tokens = await w1.commitRunWrites('r1', [start, ready('a'), ready('c'), attempt]);
      expect(tokens).toHaveLength(1);
      expect(await s.getLease('attempt:att-a')).toMatchObject({ owner: 'w1', token: tokens[0] });
      expect((await s.getRun('r1')).status).toBe('running');
      expect((await s.listTasks('r1')).map((x) => [x.taskId, x.state])).toEqual([
        ['a', 'running'],
        ['b', 'queued'],
        ['c', 'ready'],
      ]);
      expect(
        (await s.listTransitions('r1')).slice(before.length).map((x) => [x.taskId, x.from, x.to]),
      ).toEqual([
        [null, 'queued', 'running'],
        ['a', 'queued', 'ready'],
        ['c', 'queued', 'ready'],
        ['a', 'ready', 'running'],
      ]);
      // Taken over: a late batch of the paused worker writes nothing.
      const theirs = (await s.claimRun('w2', 1400, 100))!;
      const late: RunWrite = {
        kind: 'task',
        taskId: 'c',
        write: t('ready', 'cancelled', 'cancel_requested'),
      };
      await expect(w1.commitRunWrites('r1', [late])).rejects.toThrow(LeaseLostError);
      expect((await s.getTask('r1', 'c')).state).toBe('ready');
      await s.fenced({ name: theirs.name, token: theirs.token }).commitRunWrites('r1', [late]);
      expect((await s.getTask('r1', 'c')).state).toBe('cancelled');
    }));

  it('fences a run whose id is SQL: quotes and backslashes are data, checked like any other token', () =>
    withStore(harness, async (s) => {
      // PostgreSQL sends the fence check with BEGIN as one simple query, its name quoted as a literal.
      const id = `r'; DELETE FROM runs; --\\' OR '1'='1`;
      await s.createRun(newRun(id, 1000));
      const mine = (await s.claimRun('w1', 1000, 100))!;
      expect(mine.name).toBe(lease(id));
      await s
        .fenced({ name: mine.name, token: mine.token })
        .transitionRun(id, 'queued', 'running', 'started', 'w1', 1010);
      const stale = s.fenced({ name: mine.name, token: mine.token - 1 });
      await expect(
        stale.transitionTask(id, 'a', 'queued', 'ready', 'dependencies_met', 'w1', 1020),
      ).rejects.toThrow(LeaseLostError);
      expect((await s.getRun(id)).status).toBe('running');
      expect((await s.getTask(id, 'a')).state).toBe('queued');
    }));

  it('renews many run leases in one write, each only under its current token, and reads their cancels at once', () =>
    withStore(harness, async (s) => {
      for (const id of ['r1', 'r2', 'r3']) await s.createRun(newRun(id, 1000));
      const [one, two, three] = [
        (await s.claimRun('w1', 1000, 100))!,
        (await s.claimRun('w1', 1000, 100))!,
        (await s.claimRun('w1', 1000, 100))!,
      ];
      // r2's lease expires unrenewed and another worker takes it over: w1's old token no longer renews it.
      const theirs = (await s.claimRun('w2', 1200, 100))!;
      expect(theirs.name).toBe(one.name);
      const renewed = await s.renewLeases(
        [one, two, three].map((l) => ({ name: l.name, token: l.token })),
        1210,
        1000,
      );
      expect(renewed.sort()).toEqual([two.name, three.name].sort());
      expect(await s.getLease(two.name)).toMatchObject({ owner: 'w1', token: two.token, expiresAt: 2210 });
      expect(await s.getLease(one.name)).toMatchObject({ owner: 'w2', token: theirs.token, expiresAt: 1300 });
      expect(await s.renewLeases([], 1210, 1000)).toEqual([]);
      await s.requestRunCancel('r3', 'alice');
      expect([...(await s.runCancelRequests(['r1', 'r2', 'r3', 'nope']))]).toEqual([['r3', 'alice']]);
      expect((await s.runCancelRequests([])).size).toBe(0);
    }));

  it('never gives two concurrent workers the same run', async () => {
    const db = await harness.database();
    const [one, two] = [await db.open(), await db.open()];
    try {
      const runs = 12;
      for (let i = 0; i < runs; i++) await one.createRun(newRun(`r${i}`, 1000 + i));
      const claimsOf = (store: AsyncStore, owner: string) =>
        Promise.all(Array.from({ length: 10 }, () => store.claimRun(owner, 2000, 60_000)));
      const results = (await Promise.all([claimsOf(one, 'w1'), claimsOf(two, 'w2')])).flat();
      const claimed = results.filter((c) => c !== null).map((c) => c.name);
      expect(new Set(claimed).size).toBe(claimed.length);
      // SKIP LOCKED may pass a run by while another claimer holds its row: claim until none is left.
      for (let c = await one.claimRun('w1', 2000, 60_000); c; c = await one.claimRun('w1', 2000, 60_000))
        claimed.push(c.name);
      expect(claimed.sort()).toEqual(Array.from({ length: runs }, (_, i) => lease(`r${i}`)).sort());
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('keeps a durable timer (a ready task with notBefore, reason waiting_until) through a re-open; no claim takes it early', async () => {
    const db = await harness.database();
    const s = await db.open();
    await s.createRun(newRun('r1', 1000));
    const mine = (await s.claimRun('w1', 1000, 100))!;
    const w1 = s.fenced({ name: mine.name, token: mine.token });
    const t = (from: string, to: string, reason: string) =>
      ({ from, to, reason, by: 'w1', time: 1010 }) as unknown as TaskTransitionWrite & RunTransitionWrite;
    // The held start carried by the timer's own write (run-writer.ts): both stored, or neither.
    const timer: RunWrite = {
      kind: 'task',
      taskId: 'a',
      write: { ...t('queued', 'ready', 'waiting_until'), patch: { notBefore: 3_601_010 }, detail: 'until T' },
    };
    await w1.commitRunWrites('r1', [{ kind: 'run', write: t('queued', 'running', 'started') }, timer]);
    await s.close();
    const again = await db.open();
    try {
      expect(await again.getTask('r1', 'a')).toMatchObject({
        state: 'ready',
        reason: 'waiting_until',
        notBefore: 3_601_010,
      });
      expect((await again.listTransitions('r1', 'a')).at(-1)).toMatchObject({
        reason: 'waiting_until',
        detail: 'until T',
      });
      expect(await again.claimReadyTask('w2', 3_601_009, 100)).toBeNull();
      expect((await again.claimReadyTask('w2', 3_601_010, 100))?.taskId).toBe('a');
    } finally {
      await again.close();
    }
  });
}
