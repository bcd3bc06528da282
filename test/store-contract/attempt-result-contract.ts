/**
 * The store contract's attempt results, on both stores: a result with the transitions it decides
 * is all or nothing (a stale or unknown task among them leaves the attempt running, its outputs,
 * tasks and lease as they were, so the right result can still land), the transitions are stored
 * in the order given, and a result on a fenced view is refused once the run's lease moved, with
 * nothing written. The attempt's last log lines ride in the same transaction, all or nothing.
 */
import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../core/index.ts';
import { LeaseLostError, StaleStateError, type AsyncStore } from '../../engine/index.ts';
import { finish, newRun, startOf, withStore, type StoreHarness } from './store-contract.ts';

const toRunning = { from: 'ready', to: 'running', reason: 'started', by: 'e', time: 1000 } as const;
const succeeded = { from: 'running', to: 'succeeded', reason: 'exited_zero', by: 'e', time: 1500 } as const;
const ready = { from: 'queued', to: 'ready', reason: 'dependencies_met', by: 'e', time: 1500 } as const;

/** Run r1 with task a running attempt att1 (lease until 1500); its token. */
async function running(s: AsyncStore): Promise<number> {
  await s.createRun(newRun('r1', 1000));
  await s.transitionTask('r1', 'a', 'queued', 'ready', 'dependencies_met', 'e', 1000);
  return s.startAttempt(startOf('att1'), { ...toRunning, patch: { attempts: 1 } });
}

/** What a refused result must have left as it was. */
async function untouched(s: AsyncStore, token: number): Promise<void> {
  expect((await s.listAttempts('r1'))[0]).toMatchObject({ status: 'running', outcome: null, outputs: {} });
  expect((await s.listTasks('r1')).map((t) => t.state)).toEqual(['running', 'queued', 'queued']);
  expect((await s.listTransitions('r1')).map((t) => `${t.taskId}:${t.to}`).slice(4)).toEqual([
    'a:ready',
    'a:running',
  ]);
  expect(await s.getLease('attempt:att1')).toMatchObject({ token, expiresAt: 1500 });
}

export function attemptResultContract(harness: StoreHarness): void {
  describe('attempt results', () => {
    it('stores the result with its transitions in the order given, and releases the lease', () =>
      withStore(harness, async (s) => {
        const token = await running(s);
        await s.finishAttempt('att1', token, 1400, finish, succeeded, [
          { taskId: 'c', write: ready },
          { taskId: 'b', write: { ...ready, patch: { notBefore: 9000 } } },
        ]);
        const moves = (await s.listTransitions('r1')).slice(6).map((t) => `${t.taskId}:${t.from}>${t.to}`);
        expect(moves).toEqual(['a:running>succeeded', 'c:queued>ready', 'b:queued>ready']);
        expect((await s.getTask('r1', 'b')).notBefore).toBe(9000);
        expect(await s.taskOutputs('r1', 'a')).toEqual(finish.outputs);
        expect((await s.getLease('attempt:att1'))!.expiresAt).toBe(0);
      }));

    it("stores the attempt's last log lines with its result, in order, before lines written after it", () =>
      withStore(harness, async (s) => {
        const token = await running(s);
        const line = (text: string) => ({
          runId: 'r1',
          taskId: 'a',
          attempt: 1,
          stream: 'stdout' as const,
          time: 1400,
          text,
        });
        await s.appendLogs([line('first')]);
        await s.finishAttempt('att1', token, 1400, finish, succeeded, [], [line('last 1'), line('last 2')]);
        await s.appendLogs([{ ...line('after'), stream: 'system' as const }]);
        expect((await s.listLogs('r1', 'a')).map((l) => l.text)).toEqual([
          'first',
          'last 1',
          'last 2',
          'after',
        ]);
        expect((await s.listAttempts('r1'))[0]).toMatchObject({ status: 'finished', outcome: 'succeeded' });
      }));

    it('stores none of the last log lines when the result is refused (stale, or fenced out)', () =>
      withStore(harness, async (s) => {
        const token = await running(s);
        const lines = [
          { runId: 'r1', taskId: 'a', attempt: 1, stream: 'stdout' as const, time: 1400, text: 'last' },
        ];
        await expect(
          s.finishAttempt('att1', token, 1400, finish, { ...succeeded, from: 'ready' }, [], lines),
        ).rejects.toThrow(StaleStateError);
        await expect(s.finishAttempt('att1', token + 1, 1400, finish, succeeded, [], lines)).rejects.toThrow(
          LeaseLostError,
        );
        const mine = await s.acquireLease('run:r1', 'w1', 1000, 100);
        await s.acquireLease('run:r1', 'w2', 1200, 100);
        const late = s.fenced({ name: mine.name, token: mine.token });
        await expect(late.finishAttempt('att1', token, 1400, finish, succeeded, [], lines)).rejects.toThrow(
          LeaseLostError,
        );
        expect(await s.listLogs('r1')).toEqual([]);
        await untouched(s, token);
      }));

    it('writes nothing when a transition it carries is stale, so the right result can still land', () =>
      withStore(harness, async (s) => {
        const token = await running(s);
        // b is queued, not ready: its transition is stale, and with it the whole result.
        const stale = { ...ready, from: 'ready', to: 'running' } as const;
        await expect(
          s.finishAttempt('att1', token, 1400, finish, succeeded, [{ taskId: 'b', write: stale }]),
        ).rejects.toThrow(StaleStateError);
        await untouched(s, token);
        await expect(
          s.finishAttempt('att1', token, 1400, finish, { ...succeeded, from: 'ready' }),
        ).rejects.toThrow(StaleStateError);
        await untouched(s, token);
        await s.finishAttempt('att1', token, 1400, finish, succeeded, [{ taskId: 'b', write: ready }]);
        expect((await s.listTasks('r1')).map((t) => t.state)).toEqual(['succeeded', 'ready', 'queued']);
      }));

    it('writes nothing when a transition names an unknown task (NotFoundError)', () =>
      withStore(harness, async (s) => {
        const token = await running(s);
        await expect(
          s.finishAttempt('att1', token, 1400, finish, succeeded, [{ taskId: 'nope', write: ready }]),
        ).rejects.toThrow(NotFoundError);
        await untouched(s, token);
      }));

    it("refuses a fenced view's result once the run's lease moved on, writing nothing", () =>
      withStore(harness, async (s) => {
        const token = await running(s);
        const mine = await s.acquireLease('run:r1', 'w1', 1000, 100);
        const late = s.fenced({ name: mine.name, token: mine.token });
        await s.acquireLease('run:r1', 'w2', 1200, 100);
        const error: unknown = await late
          .finishAttempt('att1', token, 1400, finish, succeeded, [{ taskId: 'b', write: ready }])
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(LeaseLostError);
        expect((error as LeaseLostError).lease).toBe('run:r1');
        await untouched(s, token);
      }));
  });
}
