import type { DatabaseSync } from 'node:sqlite';
import { StoreUnusableError } from '../../engine/index.ts';

/** One forward-only step of one component's tables in `github-app.sqlite`. */
export interface SqliteMigration {
  version: number;
  apply(db: DatabaseSync): void;
}

/**
 * Brings one component's tables (the app's, the deliveries') to their current version, each
 * step in its own transaction, recorded in `app_schema` (one row per component, so each moves
 * forward on its own). A file with a newer version than this build knows is refused.
 */
export function migrateComponent(
  db: DatabaseSync,
  file: string,
  component: string,
  migrations: readonly SqliteMigration[],
): void {
  const latest = migrations.at(-1)?.version ?? 0;
  db.exec('CREATE TABLE IF NOT EXISTS app_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM app_schema WHERE component = ?').get(component);
  const current = row ? Number(row.version) : 0;
  if (current > latest)
    throw new StoreUnusableError(
      `${file} has ${component} schema version ${current}, newer than this maestro knows (${latest})`,
      { hint: 'upgrade maestro, or use another --data-dir' },
    );
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      migration.apply(db);
      db.prepare('INSERT OR REPLACE INTO app_schema (component, version) VALUES (?, ?)').run(
        component,
        migration.version,
      );
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}
