import { createHash } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { StoreUnusableError } from '../../engine/index.ts';

/**
 * The deliveries table's own schema versions, kept in `github-app.sqlite` beside the app's other
 * tables. Versions are per component (a row in `app_schema`), so the deliveries table can move
 * forward without a shared counter that every part of app/ would have to agree on.
 */
const COMPONENT = 'deliveries';

interface Migration {
  version: number;
  apply(db: DatabaseSync): void;
}

const migrations: readonly Migration[] = [
  {
    // The table as app-store.ts created it before ingress had its own store: a data dir made by
    // an older build already has it, so this is a no-op there.
    version: 1,
    apply: (db) =>
      db.exec(`CREATE TABLE IF NOT EXISTS deliveries (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, payload TEXT NOT NULL,
        received_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending', error TEXT)`),
  },
  {
    // Replay protection: the SHA-256 of the body, unique, so the same signed bytes under a new
    // X-GitHub-Delivery id are recognised. Existing rows get the digest of their stored payload
    // (ingress stores the body's exact UTF-8 text, so the digest is the body's).
    version: 2,
    apply: (db) => {
      db.exec('ALTER TABLE deliveries ADD COLUMN body_digest TEXT');
      backfillDigests(db);
      db.exec('CREATE UNIQUE INDEX deliveries_body_digest ON deliveries (body_digest)');
      db.exec('CREATE INDEX deliveries_state_received ON deliveries (state, received_at)');
    },
  },
];

export const DELIVERY_SCHEMA_VERSION = migrations.at(-1)!.version;

/** `sha256:<hex>` of a body's bytes: the replay key. */
export function bodyDigest(bytes: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Rows already stored twice with the same bytes (a replay the old code processed) keep their
 * digest on the first only: both were processed long ago, and a unique index allows many NULLs.
 */
function backfillDigests(db: DatabaseSync): void {
  const rows = db.prepare('SELECT id, payload FROM deliveries ORDER BY received_at, id').all();
  const update = db.prepare('UPDATE deliveries SET body_digest = ? WHERE id = ?');
  const seen = new Set<string>();
  for (const row of rows) {
    const digest = bodyDigest(String(row.payload));
    if (seen.has(digest)) continue;
    seen.add(digest);
    update.run(digest, String(row.id));
  }
}

/** Brings the deliveries table to the current version, each step in its own transaction. */
export function migrateDeliveries(db: DatabaseSync, file: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS app_schema (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const row = db.prepare('SELECT version FROM app_schema WHERE component = ?').get(COMPONENT);
  const current = row ? Number(row.version) : 0;
  if (current > DELIVERY_SCHEMA_VERSION)
    throw new StoreUnusableError(
      `${file} has deliveries schema version ${current}, newer than this maestro knows (${DELIVERY_SCHEMA_VERSION})`,
      { hint: 'upgrade maestro, or use another --data-dir' },
    );
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.exec('BEGIN IMMEDIATE');
    try {
      migration.apply(db);
      db.prepare('INSERT OR REPLACE INTO app_schema (component, version) VALUES (?, ?)').run(
        COMPONENT,
        migration.version,
      );
      db.exec('COMMIT');
    } catch (error) {
      db.exec('ROLLBACK');
      throw error;
    }
  }
}
