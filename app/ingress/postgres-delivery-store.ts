/**
 * The deliveries table on PostgreSQL (MAESTRO_DATABASE_URL), shared by every App replica behind
 * one load balancer: GitHub's redelivery of a delivery one replica stored, or a replay of its
 * bytes, is recognised by whichever replica it reaches. Recording is one
 * `INSERT ... ON CONFLICT DO NOTHING` over both unique keys (id, body digest), so two replicas
 * receiving one delivery at once store it once; the SELECT after it is a new statement (a new
 * snapshot at READ COMMITTED) and sees the row the other committed while this insert waited.
 * Claims are compare-and-set UPDATEs: at READ COMMITTED a second updater waits for the first,
 * re-checks the row, finds it claimed and leaves it. Migrated by the engine's one runner under
 * `app_delivery_schema_migrations`; columns are the SQLite table's.
 */
import { openPostgresPool, redactedUrl, retrying, type PostgresSchema } from '../../engine/index.ts';
import { bodyDigest } from './delivery-schema.ts';
import { defaultOwner, toDelivery, type DeliveryStore, type DeliveryStoreOptions } from './delivery-store.ts';

export const deliverySchema: PostgresSchema = {
  table: 'app_delivery_schema_migrations',
  migrations: [
    {
      // The SQLite table at its version 3.
      version: 1,
      sql: `
CREATE TABLE app_deliveries (
  id text PRIMARY KEY,
  name text NOT NULL,
  payload text NOT NULL,
  received_at bigint NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
  error text,
  body_digest text UNIQUE,
  claimed_by text,
  claimed_until bigint NOT NULL DEFAULT 0
);
CREATE INDEX app_deliveries_state_received ON app_deliveries (state, received_at);
`,
    },
  ],
};

/** Deliveries are single statements; a small pool beside the engine store's. */
const POOL_SIZE = 3;
/** Connections that hold serialisation locks: at most this many keys processed at once per replica. */
const LOCK_POOL_SIZE = 8;
// A 64-bit hash of the key: a collision only serialises two unrelated keys.
const LOCK = "SELECT pg_advisory_lock(hashtextextended('maestro.delivery:' || $1, 0))";
const UNLOCK = "SELECT pg_advisory_unlock(hashtextextended('maestro.delivery:' || $1, 0))";

export async function openPostgresDeliveryStore(
  url: string,
  options: DeliveryStoreOptions = {},
): Promise<DeliveryStore> {
  const pool = await openPostgresPool(url, { max: POOL_SIZE, schema: deliverySchema });
  // Session advisory locks live on a connection held for the whole of `fn`: their own pool, so
  // holders never starve the statements ingress needs to answer GitHub.
  const locks = await openPostgresPool(url, { max: LOCK_POOL_SIZE, schema: deliverySchema }).catch(
    async (error: unknown) => {
      await pool.end();
      throw error;
    },
  );
  const db = retrying(pool);
  const owner = options.owner ?? defaultOwner();
  const rows = async (sql: string, args: unknown[] = []) => (await db.query(sql, args)).rows;
  return {
    location: redactedUrl(url),
    shared: true,
    async recordDelivery(d) {
      const { rowCount } = await db.query(
        `INSERT INTO app_deliveries (id, name, payload, received_at, body_digest, claimed_by, claimed_until)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
        [
          d.id,
          d.name,
          d.payload,
          d.receivedAt,
          d.bodyDigest ?? bodyDigest(d.payload),
          owner,
          d.claimedUntil ?? 0,
        ],
      );
      if (rowCount === 1) return 'recorded';
      return (await rows('SELECT 1 FROM app_deliveries WHERE id = $1', [d.id])).length > 0
        ? 'duplicate_id'
        : 'duplicate_body';
    },
    async markDelivery(id, state, error) {
      await db.query('UPDATE app_deliveries SET state = $1, error = $2 WHERE id = $3', [
        state,
        error ?? null,
        id,
      ]);
    },
    claimPending: async (now, until) =>
      (
        await rows(
          `UPDATE app_deliveries SET claimed_by = $1, claimed_until = $2
           WHERE state = 'pending' AND claimed_until <= $3 RETURNING id, name, payload, received_at`,
          [owner, until, now],
        )
      )
        .map(toDelivery)
        .sort((a, b) => a.receivedAt - b.receivedAt || a.id.localeCompare(b.id)),
    async renewClaims(ids, until) {
      if (ids.length === 0) return;
      await db.query(
        `UPDATE app_deliveries SET claimed_until = $1
         WHERE id = ANY($2::text[]) AND state = 'pending' AND claimed_by = $3`,
        [until, ids, owner],
      );
    },
    pendingDeliveries: async () =>
      (
        await rows(
          "SELECT id, name, payload, received_at FROM app_deliveries WHERE state = 'pending' ORDER BY received_at, id",
        )
      ).map(toDelivery),
    async deliveryState(id) {
      const [row] = await rows('SELECT state FROM app_deliveries WHERE id = $1', [id]);
      return row ? String(row.state) : undefined;
    },
    failedDeliveries: async () =>
      (
        await rows(
          "SELECT id, name, error FROM app_deliveries WHERE state = 'failed' ORDER BY received_at, id",
        )
      ).map((row) => ({ id: String(row.id), name: String(row.name), error: String(row.error) })),
    async pruneDeliveries(before) {
      const { rowCount } = await db.query(
        "DELETE FROM app_deliveries WHERE state != 'pending' AND received_at < $1",
        [before],
      );
      return rowCount ?? 0;
    },
    async serialised(key, fn) {
      const client = await locks.connect();
      try {
        await client.query(LOCK, [key]);
      } catch (error) {
        client.release(error as Error);
        throw error;
      }
      try {
        return await fn();
      } finally {
        try {
          await client.query(UNLOCK, [key]);
          client.release();
        } catch (error) {
          // The connection died: its session, and with it the lock, are gone; so is the client.
          client.release(error as Error);
        }
      }
    },
    async close() {
      await locks.end();
      await pool.end();
    },
  };
}
