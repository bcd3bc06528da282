import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { Engine } from '../engine/index.ts';
import { startWorker } from './worker.ts';

describe('startWorker claims', () => {
  /** An engine whose store holds `queued` runs; each claim takes one a turn later, as a store does. */
  function fakeEngine(queued: number, store: object = {}) {
    let inFlight = 0;
    const seen = { maxInFlight: 0, claims: 0, claimed: 0 };
    const finish: (() => void)[] = [];
    const engine = {
      store,
      async claim() {
        seen.claims++;
        seen.maxInFlight = Math.max(seen.maxInFlight, ++inFlight);
        await new Promise((r) => setImmediate(r));
        inFlight--;
        if (queued === 0) return null;
        queued--;
        seen.claimed++;
        const done = new Promise<{ status: string }>((r) => finish.push(() => r({ status: 'succeeded' })));
        return { runId: `r${seen.claimed}`, done };
      },
    } as unknown as Engine;
    return { engine, seen, finish, add: (n: number) => (queued += n) };
  }
  const settle = async (worker: { slots(): { busy: number } }, finish: (() => void)[]) => {
    for (let i = 0; i < 20; i++) {
      for (const end of finish.splice(0)) end();
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(worker.slots().busy).toBe(0);
  };

  it('claims a backlog in doubling waves, never more runs than its slots', async () => {
    const { engine, seen, finish } = fakeEngine(20);
    const worker = startWorker(engine, pino({ level: 'silent' }), { maxRuns: 16, pollMs: 60_000 });
    while (worker.slots().busy < 16) await new Promise((r) => setTimeout(r, 5));
    // One claim at a time took a turn per run; the waves are 1, 2, 4, 8, then the one free slot.
    expect(seen.maxInFlight).toBe(8);
    expect(seen.claimed).toBe(16);
    for (const end of finish.splice(0)) end();
    while (seen.claimed < 20 || worker.slots().busy > 0) {
      for (const end of finish.splice(0)) end();
      await new Promise((r) => setTimeout(r, 5));
    }
    await worker.close();
    expect(seen.claimed).toBe(20);
  });

  it('costs one claim when nothing waits', async () => {
    const { engine, seen } = fakeEngine(0);
    const worker = startWorker(engine, pino({ level: 'silent' }), { pollMs: 60_000 });
    await new Promise((r) => setTimeout(r, 20));
    await worker.close();
    expect(seen.claims).toBe(1);
  });

  it('claims an announced run with one claim, without a doubling wave after it', async () => {
    const { engine, seen, finish, add } = fakeEngine(0);
    const worker = startWorker(engine, pino({ level: 'silent' }), { pollMs: 60_000 });
    await settle(worker, finish);
    expect(seen.claims).toBe(1); // the start look
    add(1);
    worker.wake('r-new');
    await settle(worker, finish);
    await worker.close();
    // The start look, the announced run's, the look when its slot freed. Before: the announced
    // run's look went on with a wave of two claims that found nothing (5).
    expect(seen).toMatchObject({ claimed: 1, claims: 3 });
  });

  it('looks once for a run announced by both its API and the database', async () => {
    let notify: (runId: string) => void = () => {};
    const store = {
      listenForRuns(wake: (runId: string) => void) {
        notify = wake;
        return Promise.resolve(async () => {});
      },
    };
    const { engine, seen, finish, add } = fakeEngine(0, store);
    const worker = startWorker(engine, pino({ level: 'silent' }), { pollMs: 60_000 });
    await settle(worker, finish);
    add(2);
    worker.wake('r1');
    notify('r1');
    notify('r2'); // submitted through another replica: only the database announces it
    await settle(worker, finish);
    await worker.close();
    // Start, r1's look, r2's look, one look as each slot freed; r1's notification makes none.
    expect(seen).toMatchObject({ claimed: 2, claims: 5 });
  });
});
