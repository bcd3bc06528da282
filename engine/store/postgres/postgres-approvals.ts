/**
 * Approval-task rows on PostgreSQL (`task_approvals`, migration 6): one statement each; the
 * primary key (approver compared case-insensitively through `approver_key`) makes a second
 * approval by the same reviewer a no-op, whichever replica receives it.
 */
import type { TaskApprovalRecord } from '../store.ts';
import type { Row } from '../sqlite/rows.ts';
import { toTaskApproval } from '../sqlite/sqlite-approvals.ts';
import type { Db } from './reconnect.ts';

export async function putTaskApproval(db: Db, a: TaskApprovalRecord): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO task_approvals (run_id, task_id, kind, approver, approver_key, digest, bundle, via, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8, $9) ON CONFLICT DO NOTHING`,
    [
      a.runId,
      a.taskId,
      a.kind,
      a.approver,
      a.approver.toLowerCase(),
      a.digest,
      a.bundle === null ? null : JSON.stringify(a.bundle),
      a.via,
      a.createdAt,
    ],
  );
  return (rowCount ?? 0) > 0;
}

export async function listTaskApprovals(
  db: Db,
  runId: string,
  taskId?: string,
): Promise<TaskApprovalRecord[]> {
  const { rows } =
    taskId === undefined
      ? await db.query<Row>('SELECT * FROM task_approvals WHERE run_id = $1 ORDER BY created_at, seq', [
          runId,
        ])
      : await db.query<Row>(
          'SELECT * FROM task_approvals WHERE run_id = $1 AND task_id = $2 ORDER BY created_at, seq',
          [runId, taskId],
        );
  return rows.map(toTaskApproval);
}
