import type { DatabaseSync } from 'node:sqlite';

/**
 * A dispatch: the run one trigger (a delivery, or one pull request head) started for one
 * workflow. It is written, with the run's id chosen in advance, before the engine is asked to
 * create the run, so reprocessing the same trigger after a crash resumes that run instead of
 * submitting a second one.
 */
export interface StoredDispatch {
  key: string;
  workflow: string;
  runId: string;
  createdAt: number;
}

export interface DispatchTables {
  getDispatch(key: string, workflow: string): StoredDispatch | undefined;
  /** Stores the dispatch and runs `also` (the run's own record) in one transaction. */
  putDispatch(dispatch: StoredDispatch, also: () => void): void;
}

export function openDispatchTables(db: DatabaseSync): DispatchTables {
  db.exec(`
    CREATE TABLE IF NOT EXISTS dispatches (
      key TEXT NOT NULL, workflow TEXT NOT NULL, run_id TEXT NOT NULL, created_at INTEGER NOT NULL,
      PRIMARY KEY (key, workflow));
  `);
  const select = db.prepare('SELECT * FROM dispatches WHERE key = ? AND workflow = ?');
  const insert = db.prepare('INSERT INTO dispatches VALUES (?, ?, ?, ?)');
  return {
    getDispatch: (key, workflow) => {
      const row = select.get(key, workflow);
      return row
        ? {
            key: String(row.key),
            workflow: String(row.workflow),
            runId: String(row.run_id),
            createdAt: Number(row.created_at),
          }
        : undefined;
    },
    putDispatch: (d, also) => {
      db.exec('BEGIN IMMEDIATE');
      try {
        insert.run(d.key, d.workflow, d.runId, d.createdAt);
        also();
        db.exec('COMMIT');
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    },
  };
}
