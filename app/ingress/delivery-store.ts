import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ensurePrivateDatabaseFile, ensurePrivateDir } from '../../core/index.ts';
import { bodyDigest, migrateDeliveries } from './delivery-schema.ts';

/** A webhook delivery as stored before it is acknowledged. */
export interface StoredDelivery {
  id: string;
  name: string;
  /** The body's exact text (UTF-8 of the signed bytes). */
  payload: string;
  receivedAt: number;
}

/**
 * What recording a delivery found: new, a redelivery (its X-GitHub-Delivery id was seen), or a
 * replay (the same bytes were seen under another id).
 */
export type RecordOutcome = 'recorded' | 'duplicate_id' | 'duplicate_body';

/** How long finished deliveries are kept (ids and body digests alike) unless configured. */
export const DEFAULT_DELIVERY_RETENTION_DAYS = 30;

/**
 * The deliveries table (in `github-app.sqlite`): every verified delivery, stored before it is
 * acknowledged, with its processing state and the digest of its body.
 */
export interface DeliveryStore {
  /**
   * Stores a delivery unless its id or its body (`bodyDigest`, default: the payload's digest) was
   * seen before; then nothing is stored and the outcome says which.
   */
  recordDelivery(delivery: StoredDelivery & { bodyDigest?: string }): RecordOutcome;
  markDelivery(id: string, state: 'done' | 'failed', error?: string): void;
  /** Deliveries stored but not finished (after a crash they are processed on start). */
  pendingDeliveries(): StoredDelivery[];
  deliveryState(id: string): string | undefined;
  /** Deliveries whose processing failed, with the error (for operators and tests). */
  failedDeliveries(): { id: string; name: string; error: string }[];
  /**
   * Deletes finished deliveries received before `before` (epoch ms): id, payload and body digest
   * go together, so replay protection lasts exactly as long as redelivery protection. Pending
   * deliveries are never pruned. Returns how many went.
   */
  pruneDeliveries(before: number): number;
  close(): void;
}

export function openDeliveryStore(dataDir: string): DeliveryStore {
  // 0700 and 0600: payloads are the repository's events, some from private repositories.
  ensurePrivateDir(dataDir);
  const file = join(dataDir, 'github-app.sqlite');
  ensurePrivateDatabaseFile(file);
  const db = new DatabaseSync(file, { timeout: 5000 });
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  migrateDeliveries(db, file);
  const insert = db.prepare(
    'INSERT OR IGNORE INTO deliveries (id, name, payload, received_at, body_digest) VALUES (?, ?, ?, ?, ?)',
  );
  const selectById = db.prepare('SELECT 1 FROM deliveries WHERE id = ?');
  const update = db.prepare('UPDATE deliveries SET state = ?, error = ? WHERE id = ?');
  const selectPending = db.prepare(
    "SELECT id, name, payload, received_at FROM deliveries WHERE state = 'pending' ORDER BY received_at",
  );
  const selectFailed = db.prepare(
    "SELECT id, name, error FROM deliveries WHERE state = 'failed' ORDER BY received_at",
  );
  const selectState = db.prepare('SELECT state FROM deliveries WHERE id = ?');
  const prune = db.prepare("DELETE FROM deliveries WHERE state != 'pending' AND received_at < ?");
  return {
    recordDelivery: (d) => {
      const digest = d.bodyDigest ?? bodyDigest(d.payload);
      // One statement: the primary key and the unique digest are checked atomically, so two
      // copies arriving at once cannot both be stored.
      if (insert.run(d.id, d.name, d.payload, d.receivedAt, digest).changes === 1) return 'recorded';
      return selectById.get(d.id) ? 'duplicate_id' : 'duplicate_body';
    },
    markDelivery: (id, state, error) => void update.run(state, error ?? null, id),
    pendingDeliveries: () =>
      selectPending.all().map((row) => ({
        id: String(row.id),
        name: String(row.name),
        payload: String(row.payload),
        receivedAt: Number(row.received_at),
      })),
    deliveryState: (id) => {
      const row = selectState.get(id);
      return row ? String(row.state) : undefined;
    },
    failedDeliveries: () =>
      selectFailed
        .all()
        .map((row) => ({ id: String(row.id), name: String(row.name), error: String(row.error) })),
    pruneDeliveries: (before) => Number(prune.run(before).changes),
    close: () => db.close(),
  };
}
