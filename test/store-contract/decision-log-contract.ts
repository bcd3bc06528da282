/**
 * The policy decision log's contract, written once and run unchanged against SQLite and
 * PostgreSQL (decision-log.sqlite.test.ts, decision-log.postgres.test.ts), each opened the way
 * the runtime opens it (runtime's openPolicyLog). The attacks go around maestro: plain SQL on the
 * database, which the database itself must refuse.
 */
import { describe, expect, it } from 'vitest';
import { hashEntry, type DecisionLog } from '../../policy/index.ts';
import { decisionRecord as record } from '../helpers/decision-records.ts';

export interface DecisionLogDatabase {
  /** Opens the log on this database (a new connection, or pool, each call). */
  open(): Promise<DecisionLog>;
  /** Runs SQL directly on the database, outside maestro. */
  sql(statement: string): Promise<void>;
}

export interface DecisionLogHarness {
  database(): Promise<DecisionLogDatabase>;
}

const INSERT = `INSERT INTO policy_decision_log (seq, decision_id, time, run_id, task_id, attempt, delivery_id,
  input_digest, bundle_digest, allow, unavailable, reasons, prev_hash, hash)`;

async function withLog(
  harness: DecisionLogHarness,
  fn: (log: DecisionLog, db: DecisionLogDatabase) => Promise<void>,
) {
  const db = await harness.database();
  const log = await db.open();
  try {
    await fn(log, db);
  } finally {
    await log.close();
  }
}

export function decisionLogContract(name: string, harness: DecisionLogHarness): void {
  describe(`decision log contract: ${name}`, () => {
    it('chains entries across re-opening: each links to the one before, its hash covers its content', async () => {
      const db = await harness.database();
      const first = await db.open();
      for (let i = 1; i <= 3; i++) await first.append(record(i));
      await first.close();
      const again = await db.open();
      try {
        const appended = await again.append(record(4));
        const entries = await again.entries();
        expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
        expect(entries.at(-1)).toEqual(appended);
        for (const [i, e] of entries.entries()) {
          expect(hashEntry(e)).toBe(e.hash);
          if (i > 0) expect(e.prevHash).toBe(entries[i - 1]!.hash);
          expect(e).toEqual({ ...record(i + 1), seq: i + 1, prevHash: e.prevHash, hash: e.hash });
        }
        expect(await again.verify()).toMatchObject({ ok: true, entries: 4, headHash: appended.hash });
      } finally {
        await again.close();
      }
    });

    it('keeps one chain when two replicas append at once', async () => {
      const db = await harness.database();
      const a = await db.open();
      const b = await db.open();
      try {
        await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).append(record(i + 1))));
        const entries = await a.entries();
        expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
        expect(new Set(entries.map((e) => e.decisionId)).size).toBe(12);
        expect(await b.verify()).toMatchObject({ ok: true, entries: 12 });
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('refuses UPDATE and DELETE issued directly in SQL, leaving the chain intact', () =>
      withLog(harness, async (log, db) => {
        for (let i = 1; i <= 3; i++) await log.append(record(i));
        const before = await log.entries();
        const refused = /append-only/;
        await expect(db.sql(`UPDATE policy_decision_log SET allow = TRUE WHERE seq = 1`)).rejects.toThrow(
          refused,
        );
        await expect(db.sql(`UPDATE policy_decision_log SET reasons = '[]'`)).rejects.toThrow(refused);
        await expect(db.sql('DELETE FROM policy_decision_log WHERE seq = 3')).rejects.toThrow(refused);
        await expect(db.sql('DELETE FROM policy_decision_log')).rejects.toThrow(refused);
        expect(await log.entries()).toEqual(before);
        expect((await log.verify()).ok).toBe(true);
      }));

    it('refuses an INSERT in SQL that does not continue the chain', () =>
      withLog(harness, async (log, db) => {
        const head = await log.append(record(1));
        const broken = /does not continue the chain/;
        // A gap in seq.
        await expect(
          db.sql(
            `${INSERT} VALUES (5, 'x', 't', 'r', 't', 1, NULL, 'i', 'b', TRUE, FALSE, '[]', '${head.hash}', 'h1')`,
          ),
        ).rejects.toThrow(broken);
        // The next seq, linking to something other than the head.
        await expect(
          db.sql(
            `${INSERT} VALUES (2, 'x', 't', 'r', 't', 1, NULL, 'i', 'b', TRUE, FALSE, '[]', 'sha256:other', 'h2')`,
          ),
        ).rejects.toThrow(broken);
        // Before the first entry.
        await expect(
          db.sql(
            `${INSERT} VALUES (1, 'y', 't', 'r', 't', 1, NULL, 'i', 'b', TRUE, FALSE, '[]', '${head.prevHash}', 'h3')`,
          ),
        ).rejects.toThrow();
        expect(await log.entries()).toEqual([head]);
      }));

    it('lists one run’s entries in seq order, and no other run’s', () =>
      withLog(harness, async (log) => {
        for (let i = 1; i <= 5; i++) await log.append(record(i, { runId: i % 2 ? 'run-odd' : 'run-even' }));
        expect((await log.entriesOf('run-odd')).map((e) => e.decisionId)).toEqual(['d-1', 'd-3', 'd-5']);
        expect((await log.entriesOf('run-even')).map((e) => [e.seq, e.reasons])).toEqual([
          [2, []],
          [4, []],
        ]);
        expect(await log.entriesOf('run-none')).toEqual([]);
        expect((await log.entriesOf('run-odd'))[0]).toEqual((await log.entries())[0]);
      }));

    it('rejects an append it cannot record (a decision id already there), recording nothing, then goes on', () =>
      withLog(harness, async (log) => {
        await log.append(record(1));
        await expect(log.append(record(2, { decisionId: 'd-1' }))).rejects.toMatchObject({
          code: 'policy_log_write_failed',
        });
        await log.append(record(2));
        expect((await log.entries()).map((e) => [e.seq, e.decisionId])).toEqual([
          [1, 'd-1'],
          [2, 'd-2'],
        ]);
        expect((await log.verify()).ok).toBe(true);
      }));
  });
}
