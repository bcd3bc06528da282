/**
 * The store contract's approval-task part (called by store-contract.ts, so it runs unchanged on
 * SQLite and PostgreSQL): one row per run, task, kind and reviewer (compared case-insensitively),
 * whoever writes it and however often, read back oldest first; and the database itself refuses
 * rewriting or deleting one, so a recorded approval (or escalation) cannot be taken back by SQL.
 */
import { expect, it } from 'vitest';
import type { TaskApprovalRecord } from '../../engine/index.ts';
import { newRun, withStore, type StoreHarness } from './store-contract.ts';

const row = (
  approver: string,
  createdAt: number,
  extra: Partial<TaskApprovalRecord> = {},
): TaskApprovalRecord => ({
  runId: 'r1',
  taskId: 'gate',
  kind: 'approval',
  approver,
  digest: `sha256:${approver}`,
  bundle: { signed: approver },
  via: 'api',
  createdAt,
  ...extra,
});

export function taskApprovalContract(harness: StoreHarness): void {
  it('keeps one approval per run, task and reviewer (case-insensitive), oldest first', () =>
    withStore(harness, async (s) => {
      await s.createRun(newRun('r1', 1000));
      expect(await s.putTaskApproval(row('alice', 2000))).toBe(true);
      expect(await s.putTaskApproval(row('ALICE', 2100, { digest: 'sha256:other' }))).toBe(false);
      expect(await s.putTaskApproval(row('bob', 2200))).toBe(true);
      expect(await s.putTaskApproval(row('alice', 2300, { taskId: 'gate2' }))).toBe(true);
      expect(
        await s.putTaskApproval(
          row('', 2400, { kind: 'escalation', digest: '', bundle: null, via: 'engine' }),
        ),
      ).toBe(true);
      const gate = await s.listTaskApprovals('r1', 'gate');
      expect(gate.map((a) => [a.kind, a.approver, a.digest])).toEqual([
        ['approval', 'alice', 'sha256:alice'],
        ['approval', 'bob', 'sha256:bob'],
        ['escalation', '', ''],
      ]);
      expect(gate[0]!.bundle).toEqual({ signed: 'alice' });
      expect(gate[2]!.bundle).toBeNull();
      expect((await s.listTaskApprovals('r1')).length).toBe(4);
      await expect(s.putTaskApproval(row('carol', 2500, { runId: 'nope' }))).rejects.toMatchObject({
        code: 'not_found',
      });
    }));

  it('refuses rewriting or deleting a recorded approval in the database itself', async () => {
    const db = await harness.database();
    const s = await db.open();
    try {
      await s.createRun(newRun('r1', 1000));
      await s.putTaskApproval(row('alice', 2000));
      await expect(db.sql(`UPDATE task_approvals SET approver = 'mallory'`)).rejects.toThrow(/immutable/);
      await expect(db.sql(`DELETE FROM task_approvals`)).rejects.toThrow(/immutable|never deleted/);
      expect((await s.listTaskApprovals('r1'))[0]).toMatchObject({ approver: 'alice' });
    } finally {
      await s.close();
    }
  });
}
