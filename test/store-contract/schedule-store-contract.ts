/**
 * The schedule store's contract (slot claims, takeovers, watermarks), written once and run
 * unchanged against SQLite and PostgreSQL (schedule-store.sqlite.test.ts,
 * schedule-store.postgres.test.ts). Two stores opened on one database stand for two replicas.
 */
import { describe, expect, it } from 'vitest';
import type { ScheduleStore } from '../../engine/index.ts';

export type ClosableScheduleStore = ScheduleStore & { close(): Promise<void> };

export interface ScheduleStoreHarness {
  /** A fresh database; each `open()` is another connection to it (another replica). */
  database(): Promise<{ open(): Promise<ClosableScheduleStore> }>;
}

const slot = (slotMs: number, runId: string, owner: string, leaseUntil = 2000) => ({
  scope: 'octo/repo',
  workflow: 'default/nightly',
  slotMs,
  runId,
  owner,
  claimedAt: 1000,
  leaseUntil,
});

async function twoReplicas(
  harness: ScheduleStoreHarness,
  fn: (a: ScheduleStore, b: ScheduleStore) => Promise<void>,
) {
  const db = await harness.database();
  const a = await db.open();
  const b = await db.open();
  try {
    await fn(a, b);
  } finally {
    await a.close();
    await b.close();
  }
}

export function scheduleStoreContract(name: string, harness: ScheduleStoreHarness): void {
  describe(`schedule store contract: ${name}`, () => {
    it('claims a slot once, whichever replica asks and however many race', () =>
      twoReplicas(harness, async (a, b) => {
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).claim(slot(3_600_000, `r-${i}`, `w${i}`))),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
        const winner = results.indexOf(true);
        expect(await a.get('octo/repo', 'default/nightly', 3_600_000)).toEqual({
          ...slot(3_600_000, `r-${winner}`, `w${winner}`),
          state: 'claimed',
        });
        // Another slot, or the same slot of another workflow or scope, is its own claim.
        expect(await b.claim(slot(7_200_000, 'r-x', 'w0'))).toBe(true);
        expect(await b.claim({ ...slot(3_600_000, 'r-y', 'w0'), workflow: 'default/other' })).toBe(true);
        expect(await b.claim({ ...slot(3_600_000, 'r-z', 'w0'), scope: 'octo/other' })).toBe(true);
      }));

    it('lets one replica take over a claim only once its lease ran out, keeping its run id', () =>
      twoReplicas(harness, async (a, b) => {
        await a.claim(slot(3_600_000, 'r-1', 'dead', 2000));
        expect(await a.expired(1999)).toEqual([]);
        expect(await b.takeOver('octo/repo', 'default/nightly', 3_600_000, 'b', 1999, 5000)).toBeUndefined();
        expect((await b.expired(2000)).map((c) => c.runId)).toEqual(['r-1']);
        const takers = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            (i % 2 ? a : b).takeOver('octo/repo', 'default/nightly', 3_600_000, `t${i}`, 2000, 9000),
          ),
        );
        const taken = takers.filter((t) => t !== undefined);
        expect(taken).toHaveLength(1);
        expect(taken[0]).toMatchObject({ runId: 'r-1', leaseUntil: 9000, state: 'claimed' });
        expect(await a.expired(2000)).toEqual([]);
        // The old owner can no longer settle it; the new one can.
        await a.finish('octo/repo', 'default/nightly', 3_600_000, 'dead', 'fired');
        expect((await b.get('octo/repo', 'default/nightly', 3_600_000))?.state).toBe('claimed');
        await a.finish('octo/repo', 'default/nightly', 3_600_000, taken[0]!.owner, 'skipped', 'gone');
        expect(await b.get('octo/repo', 'default/nightly', 3_600_000)).toMatchObject({
          state: 'skipped',
          detail: 'gone',
        });
      }));

    it('never reopens a settled claim: not expired, not taken over, not finished again', () =>
      twoReplicas(harness, async (a, b) => {
        await a.claim(slot(3_600_000, 'r-1', 'a', 2000));
        await a.finish('octo/repo', 'default/nightly', 3_600_000, 'a', 'fired');
        expect(await b.expired(10_000)).toEqual([]);
        expect(
          await b.takeOver('octo/repo', 'default/nightly', 3_600_000, 'b', 10_000, 20_000),
        ).toBeUndefined();
        await a.finish('octo/repo', 'default/nightly', 3_600_000, 'a', 'skipped', 'late');
        const settled = await b.get('octo/repo', 'default/nightly', 3_600_000);
        expect(settled).toMatchObject({ state: 'fired', owner: 'a' });
        expect(settled?.detail).toBeUndefined();
      }));

    it('moves a watermark forward only, per workflow', () =>
      twoReplicas(harness, async (a, b) => {
        expect(await a.watermark('octo/repo', 'default/nightly')).toBeUndefined();
        await a.advanceWatermark('octo/repo', 'default/nightly', 5000);
        await b.advanceWatermark('octo/repo', 'default/nightly', 4000);
        expect(await b.watermark('octo/repo', 'default/nightly')).toBe(5000);
        await Promise.all(
          [9000, 7000, 8000].map((t, i) =>
            (i % 2 ? a : b).advanceWatermark('octo/repo', 'default/nightly', t),
          ),
        );
        expect(await a.watermark('octo/repo', 'default/nightly')).toBe(9000);
        expect(await a.watermark('octo/repo', 'default/other')).toBeUndefined();
        // Instants past 2^31 ms (any date after 1970-01-25) round-trip exactly.
        await a.advanceWatermark('octo/repo', 'default/big', Date.parse('2026-03-01T00:00:00Z'));
        expect(await b.watermark('octo/repo', 'default/big')).toBe(Date.parse('2026-03-01T00:00:00Z'));
      }));

    it('lists claims by scope in slot order, and keeps them across re-opening', async () => {
      const db = await harness.database();
      const first = await db.open();
      await first.claim(slot(7_200_000, 'r-2', 'a'));
      await first.claim(slot(3_600_000, 'r-1', 'a'));
      await first.claim({ ...slot(3_600_000, 'r-3', 'a'), scope: 'octo/zzz' });
      await first.close();
      const again = await db.open();
      try {
        expect((await again.list()).map((c) => c.runId)).toEqual(['r-1', 'r-2', 'r-3']);
        expect((await again.list('octo/repo')).map((c) => c.slotMs)).toEqual([3_600_000, 7_200_000]);
        expect(await again.list('octo/none')).toEqual([]);
      } finally {
        await again.close();
      }
    });
  });
}
