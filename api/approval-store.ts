/**
 * The approvals given through the API, beside the API store in `<data-dir>/api.sqlite`: each
 * approver's signed approval of a run (one per run and approver, so the same approver twice
 * counts once), and the grant that released the run (one per run, the first one stored wins).
 * Rows are never updated or deleted: they are the run's evidence. The port is asynchronous so a
 * PostgreSQL implementation can stand behind it, as behind the engine's store.
 */
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { ensurePrivateDatabaseFile, ensurePrivateDir } from '../core/index.ts';

export interface StoredApproval {
  runId: string;
  approver: string;
  /** The signed attestation's digest and bundle. */
  digest: string;
  bundle: unknown;
  approvedAt: number;
}

export interface StoredGrant {
  runId: string;
  digest: string;
  bundle: unknown;
  grantedAt: number;
}

export interface ApprovalStore {
  /** Stores the approval unless this approver's is there (case-insensitive); returns the stored one. */
  putApproval(approval: StoredApproval): Promise<{ created: boolean; approval: StoredApproval }>;
  /** A run's approvals, oldest first. */
  listApprovals(runId: string): Promise<StoredApproval[]>;
  /** Stores the grant unless the run has one; returns the stored one. */
  putGrant(grant: StoredGrant): Promise<StoredGrant>;
  getGrant(runId: string): Promise<StoredGrant | undefined>;
  close(): void;
}

export function openApprovalStore(dataDir: string): ApprovalStore {
  ensurePrivateDir(dataDir);
  const file = join(dataDir, 'api.sqlite');
  ensurePrivateDatabaseFile(file);
  const db = new DatabaseSync(file);
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA busy_timeout = 5000;
    CREATE TABLE IF NOT EXISTS run_approvals (
      run_id TEXT NOT NULL, approver_key TEXT NOT NULL, approver TEXT NOT NULL, digest TEXT NOT NULL,
      bundle TEXT NOT NULL, approved_at INTEGER NOT NULL, PRIMARY KEY (run_id, approver_key));
    CREATE TABLE IF NOT EXISTS run_approval_grants (
      run_id TEXT PRIMARY KEY, digest TEXT NOT NULL, bundle TEXT NOT NULL, granted_at INTEGER NOT NULL);
    -- Evidence is append-only, in the database itself.
    CREATE TRIGGER IF NOT EXISTS run_approvals_no_update BEFORE UPDATE ON run_approvals
      BEGIN SELECT RAISE(ABORT, 'run approvals are append-only'); END;
    CREATE TRIGGER IF NOT EXISTS run_approvals_no_delete BEFORE DELETE ON run_approvals
      BEGIN SELECT RAISE(ABORT, 'run approvals are append-only'); END;
    CREATE TRIGGER IF NOT EXISTS run_approval_grants_no_update BEFORE UPDATE ON run_approval_grants
      BEGIN SELECT RAISE(ABORT, 'run approval grants are append-only'); END;
  `);
  const one = (sql: string, ...args: SQLInputValue[]) =>
    db.prepare(sql).get(...args) as Record<string, SQLInputValue> | undefined;
  return {
    async putApproval(a) {
      const key = a.approver.toLowerCase();
      const { changes } = db
        .prepare(
          `INSERT INTO run_approvals (run_id, approver_key, approver, digest, bundle, approved_at)
           VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, approver_key) DO NOTHING`,
        )
        .run(a.runId, key, a.approver, a.digest, JSON.stringify(a.bundle), a.approvedAt);
      const row = one('SELECT * FROM run_approvals WHERE run_id = ? AND approver_key = ?', a.runId, key)!;
      return { created: changes === 1, approval: toApproval(row) };
    },
    async listApprovals(runId) {
      return (
        db
          .prepare('SELECT * FROM run_approvals WHERE run_id = ? ORDER BY approved_at, rowid')
          .all(runId) as Record<string, SQLInputValue>[]
      ).map(toApproval);
    },
    async putGrant(g) {
      db.prepare(
        `INSERT INTO run_approval_grants (run_id, digest, bundle, granted_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (run_id) DO NOTHING`,
      ).run(g.runId, g.digest, JSON.stringify(g.bundle), g.grantedAt);
      return toGrant(one('SELECT * FROM run_approval_grants WHERE run_id = ?', g.runId)!);
    },
    async getGrant(runId) {
      const row = one('SELECT * FROM run_approval_grants WHERE run_id = ?', runId);
      return row ? toGrant(row) : undefined;
    },
    close: () => db.close(),
  };
}

function toApproval(row: Record<string, SQLInputValue>): StoredApproval {
  return {
    runId: String(row.run_id),
    approver: String(row.approver),
    digest: String(row.digest),
    bundle: JSON.parse(String(row.bundle)) as unknown,
    approvedAt: Number(row.approved_at),
  };
}

function toGrant(row: Record<string, SQLInputValue>): StoredGrant {
  return {
    runId: String(row.run_id),
    digest: String(row.digest),
    bundle: JSON.parse(String(row.bundle)) as unknown,
    grantedAt: Number(row.granted_at),
  };
}
