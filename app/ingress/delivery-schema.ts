import { createHash } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import { migrateComponent, type SqliteMigration } from '../store/sqlite-migrations.ts';

/**
 * The deliveries table's own schema versions, kept in `github-app.sqlite` beside the app's other
 * tables. Versions are per component (a row in `app_schema`), so the deliveries table can move
 * forward without a shared counter that every part of app/ would have to agree on.
 */
const COMPONENT = 'deliveries';

const migrations: readonly SqliteMigration[] = [
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
  {
    // Claims: who is processing a pending delivery and until when (renewed while it works), so
    // of several processes on one database one processes it, and another takes it over only
    // after its claimer stopped. Rows from before have no claim (0): the next start takes them.
    version: 3,
    apply: (db) => {
      db.exec('ALTER TABLE deliveries ADD COLUMN claimed_by TEXT');
      db.exec('ALTER TABLE deliveries ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0');
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
  migrateComponent(db, file, COMPONENT, migrations);
}
