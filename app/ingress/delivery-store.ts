import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
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

/** How long finished deliveries are kept (ids and body digests) unless configured. */
export const DEFAULT_DELIVERY_RETENTION_DAYS = 30;

/**
 * The deliveries table: every verified delivery, stored before it is acknowledged, with its
 * processing state, the digest of its body, and its claim (which process is processing it, until
 * when). One asynchronous port, two implementations held to one contract
 * (test/store-contract/delivery-store-contract.ts): SQLite in `<data-dir>/github-app.sqlite`,
 * PostgreSQL (postgres-delivery-store.ts) when MAESTRO_DATABASE_URL names one, so a redelivery
 * that reaches another App replica is recognised there too.
 */
export interface DeliveryStore {
  /** Where it lives (a file, or a PostgreSQL URL without its password). */
  readonly location: string;
  /** Other processes use it too (PostgreSQL): a pending delivery may be another's to process. */
  readonly shared: boolean;
  /**
   * Stores a delivery, claimed by this store's owner until `claimedUntil` (default: unclaimed),
   * unless its id or its body (`bodyDigest`, default: the payload's digest) was seen before;
   * then nothing is stored and the outcome says which. One statement, atomic across processes.
   */
  recordDelivery(
    delivery: StoredDelivery & { bodyDigest?: string; claimedUntil?: number },
  ): Promise<RecordOutcome>;
  markDelivery(id: string, state: 'done' | 'failed', error?: string): Promise<void>;
  /**
   * Claims, for this store's owner until `claimedUntil`, every pending delivery whose claim ran
   * out at `now` (its claimer stopped), in arrival order; a compare-and-set, so of several
   * processes one gets each.
   */
  claimPending(now: number, claimedUntil: number): Promise<StoredDelivery[]>;
  /** Extends this owner's claims on these pending deliveries (it is still processing them). */
  renewClaims(ids: string[], claimedUntil: number): Promise<void>;
  /** Deliveries stored but not finished, claimed or not. */
  pendingDeliveries(): Promise<StoredDelivery[]>;
  deliveryState(id: string): Promise<string | undefined>;
  /** Deliveries whose processing failed, with the error (for operators and tests). */
  failedDeliveries(): Promise<{ id: string; name: string; error: string }[]>;
  /**
   * Deletes finished deliveries received before `before` (epoch ms): id, payload and body digest
   * go together, so replay protection lasts exactly as long as redelivery protection. Pending
   * deliveries are never pruned. Returns how many went.
   */
  pruneDeliveries(before: number): Promise<number>;
  /**
   * Runs `fn` while no other holder of `key` on this database runs one (the queue's
   * serialisation key: one pull request, ref or run), so two replicas never process two events
   * of one pull request at once: a review counted on one replica while a dismissal is counted
   * on another could otherwise leave an attestation the later state would have revoked.
   */
  serialised<T>(key: string, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DeliveryStoreOptions {
  /** Who claims (default: host, pid and a random suffix: unique per process). */
  owner?: string;
}

export const defaultOwner = (): string => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/**
 * One chain per (file, key) in this process: a SQLite file is one process's, so a lock in memory
 * is the whole of `serialised` there.
 */
const chains = new Map<string, Promise<unknown>>();
function inProcessSerialised<T>(scope: string, key: string, fn: () => Promise<T>): Promise<T> {
  const name = `${scope}\u0000${key}`;
  const previous = chains.get(name) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(fn);
  chains.set(name, next);
  void next
    .catch(() => {})
    .finally(() => {
      if (chains.get(name) === next) chains.delete(name);
    });
  return next;
}

export const toDelivery = (row: Record<string, unknown>): StoredDelivery => ({
  id: String(row.id),
  name: String(row.name),
  payload: String(row.payload),
  receivedAt: Number(row.received_at),
});

/** The deliveries table in `<data-dir>/github-app.sqlite` (one App process per data dir). */
export function openSqliteDeliveryStore(dataDir: string, options: DeliveryStoreOptions = {}): DeliveryStore {
  // 0700 and 0600: payloads are the repository's events, some from private repositories.
  ensurePrivateDir(dataDir);
  const file = join(dataDir, 'github-app.sqlite');
  ensurePrivateDatabaseFile(file);
  const db = new DatabaseSync(file, { timeout: 5000 });
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  migrateDeliveries(db, file);
  const owner = options.owner ?? defaultOwner();
  const q = {
    insert: db.prepare(
      `INSERT OR IGNORE INTO deliveries (id, name, payload, received_at, body_digest, claimed_by, claimed_until)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    byId: db.prepare('SELECT 1 FROM deliveries WHERE id = ?'),
    update: db.prepare('UPDATE deliveries SET state = ?, error = ? WHERE id = ?'),
    claim: db.prepare(
      `UPDATE deliveries SET claimed_by = ?, claimed_until = ?
       WHERE state = 'pending' AND claimed_until <= ? RETURNING id, name, payload, received_at`,
    ),
    renew: db.prepare(
      `UPDATE deliveries SET claimed_until = ? WHERE id = ? AND state = 'pending' AND claimed_by = ?`,
    ),
    pending: db.prepare(
      "SELECT id, name, payload, received_at FROM deliveries WHERE state = 'pending' ORDER BY received_at, id",
    ),
    failed: db.prepare("SELECT id, name, error FROM deliveries WHERE state = 'failed' ORDER BY received_at"),
    state: db.prepare('SELECT state FROM deliveries WHERE id = ?'),
    prune: db.prepare("DELETE FROM deliveries WHERE state != 'pending' AND received_at < ?"),
  };
  return {
    location: file,
    shared: false,
    recordDelivery: async (d) => {
      const digest = d.bodyDigest ?? bodyDigest(d.payload);
      const until = d.claimedUntil ?? 0;
      // One statement: the primary key and the unique digest are checked atomically, so two
      // copies arriving at once cannot both be stored.
      if (q.insert.run(d.id, d.name, d.payload, d.receivedAt, digest, owner, until).changes === 1)
        return 'recorded';
      return q.byId.get(d.id) ? 'duplicate_id' : 'duplicate_body';
    },
    markDelivery: async (id, state, error) => void q.update.run(state, error ?? null, id),
    claimPending: async (now, until) =>
      q.claim
        .all(owner, until, now)
        .map(toDelivery)
        .sort((a, b) => a.receivedAt - b.receivedAt || a.id.localeCompare(b.id)),
    renewClaims: async (ids, until) => {
      for (const id of ids) q.renew.run(until, id, owner);
    },
    pendingDeliveries: async () => q.pending.all().map(toDelivery),
    deliveryState: async (id) => {
      const row = q.state.get(id);
      return row ? String(row.state) : undefined;
    },
    failedDeliveries: async () =>
      q.failed.all().map((row) => ({ id: String(row.id), name: String(row.name), error: String(row.error) })),
    pruneDeliveries: async (before) => Number(q.prune.run(before).changes),
    serialised: (key, fn) => inProcessSerialised(file, key, fn),
    close: async () => db.close(),
  };
}
