/**
 * Approval-task rows on SQLite (`task_approvals`, migration 7): inserted once per reviewer (the
 * primary key compares approvers case-insensitively through `approver_key`), read in order.
 */
import type { TaskApprovalRecord } from '../store.ts';
import type { Sql } from './sqlite-leases.ts';
import type { Row } from './rows.ts';

export function putTaskApproval(sql: Sql, a: TaskApprovalRecord): boolean {
  const changed = sql.run(
    `INSERT INTO task_approvals (run_id, task_id, kind, approver, approver_key, digest, bundle, via, created_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    a.runId,
    a.taskId,
    a.kind,
    a.approver,
    a.approver.toLowerCase(),
    a.digest,
    a.bundle === null ? null : JSON.stringify(a.bundle),
    a.via,
    a.createdAt,
  );
  return changed > 0;
}

export function listTaskApprovals(sql: Sql, runId: string, taskId?: string): TaskApprovalRecord[] {
  const rows =
    taskId === undefined
      ? sql.all('SELECT * FROM task_approvals WHERE run_id = ? ORDER BY created_at, rowid', runId)
      : sql.all(
          'SELECT * FROM task_approvals WHERE run_id = ? AND task_id = ? ORDER BY created_at, rowid',
          runId,
          taskId,
        );
  return rows.map(toTaskApproval);
}

export function toTaskApproval(r: Row): TaskApprovalRecord {
  const bundle = r.bundle === null || r.bundle === undefined ? null : r.bundle;
  return {
    runId: String(r.run_id),
    taskId: String(r.task_id),
    kind: String(r.kind) as TaskApprovalRecord['kind'],
    approver: String(r.approver),
    digest: String(r.digest),
    bundle: typeof bundle === 'string' ? (JSON.parse(bundle) as unknown) : bundle,
    via: String(r.via),
    createdAt: Number(r.created_at),
  };
}
