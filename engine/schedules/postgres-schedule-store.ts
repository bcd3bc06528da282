/**
 * The schedules' claims and watermarks on PostgreSQL (MAESTRO_DATABASE_URL), so any number of
 * replicas fire each (scope, workflow, slot) once: a claim is an INSERT the primary key lets
 * through once; a takeover is a compare-and-set UPDATE (at READ COMMITTED a second updater waits
 * for the first, re-reads the row, finds its lease live and changes nothing). Tables migrated by
 * the one runner (store/postgres/open-pool.ts) under `schedule_schema_migrations`; the columns
 * are the SQLite store's, so `claimOf` maps both.
 */
import type { PostgresSchema } from '../store/postgres/open-pool.ts';
import { openPool, redactedUrl } from '../store/postgres/open-pool.ts';
import { retrying } from '../store/postgres/reconnect.ts';
import { claimOf, type ScheduleStore } from './schedule-store.ts';

export const scheduleSchema: PostgresSchema = {
  table: 'schedule_schema_migrations',
  migrations: [
    {
      version: 1,
      sql: `
CREATE TABLE schedule_watermarks (
  scope text NOT NULL,
  workflow text NOT NULL,
  through_ms bigint NOT NULL,
  PRIMARY KEY (scope, workflow)
);
CREATE TABLE schedule_claims (
  scope text NOT NULL,
  workflow text NOT NULL,
  slot_ms bigint NOT NULL,
  run_id text NOT NULL,
  owner text NOT NULL,
  claimed_at bigint NOT NULL,
  lease_until bigint NOT NULL,
  state text NOT NULL CHECK (state IN ('claimed', 'fired', 'skipped')),
  detail text,
  PRIMARY KEY (scope, workflow, slot_ms)
);
CREATE INDEX schedule_claims_open ON schedule_claims (lease_until) WHERE state = 'claimed';
`,
    },
  ],
};

export interface PostgresScheduleStore extends ScheduleStore {
  readonly location: string;
  close(): Promise<void>;
}

/** One tick's few statements at a time: a small pool beside the engine store's. */
const POOL_SIZE = 2;

export async function openPostgresScheduleStore(url: string): Promise<PostgresScheduleStore> {
  const pool = await openPool(url, { max: POOL_SIZE, schema: scheduleSchema });
  const db = retrying(pool);
  const rows = async (sql: string, args: unknown[]) => (await db.query(sql, args)).rows;
  const get = async (scope: string, workflow: string, slotMs: number) => {
    const [row] = await rows(
      'SELECT * FROM schedule_claims WHERE scope = $1 AND workflow = $2 AND slot_ms = $3',
      [scope, workflow, slotMs],
    );
    return row ? claimOf(row) : undefined;
  };
  return {
    location: redactedUrl(url),
    async watermark(scope, workflow) {
      const [row] = await rows(
        'SELECT through_ms FROM schedule_watermarks WHERE scope = $1 AND workflow = $2',
        [scope, workflow],
      );
      return row ? Number(row.through_ms) : undefined;
    },
    async advanceWatermark(scope, workflow, toMs) {
      await db.query(
        `INSERT INTO schedule_watermarks (scope, workflow, through_ms) VALUES ($1, $2, $3)
         ON CONFLICT (scope, workflow)
         DO UPDATE SET through_ms = GREATEST(schedule_watermarks.through_ms, excluded.through_ms)`,
        [scope, workflow, toMs],
      );
    },
    async claim(c) {
      const result = await db.query(
        `INSERT INTO schedule_claims (scope, workflow, slot_ms, run_id, owner, claimed_at, lease_until, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'claimed') ON CONFLICT (scope, workflow, slot_ms) DO NOTHING`,
        [c.scope, c.workflow, c.slotMs, c.runId, c.owner, c.claimedAt, c.leaseUntil],
      );
      return result.rowCount === 1;
    },
    async takeOver(scope, workflow, slotMs, owner, now, leaseUntil) {
      const [row] = await rows(
        `UPDATE schedule_claims SET owner = $1, lease_until = $2
         WHERE scope = $3 AND workflow = $4 AND slot_ms = $5 AND state = 'claimed' AND lease_until <= $6
         RETURNING *`,
        [owner, leaseUntil, scope, workflow, slotMs, now],
      );
      return row ? claimOf(row) : undefined;
    },
    expired: async (now) =>
      (
        await rows(
          `SELECT * FROM schedule_claims WHERE state = 'claimed' AND lease_until <= $1 ORDER BY slot_ms`,
          [now],
        )
      ).map(claimOf),
    async finish(scope, workflow, slotMs, owner, state, detail) {
      await db.query(
        `UPDATE schedule_claims SET state = $1, detail = $2
         WHERE scope = $3 AND workflow = $4 AND slot_ms = $5 AND owner = $6 AND state = 'claimed'`,
        [state, detail ?? null, scope, workflow, slotMs, owner],
      );
    },
    get,
    list: async (scope) =>
      (scope === undefined
        ? await rows('SELECT * FROM schedule_claims ORDER BY scope, workflow, slot_ms', [])
        : await rows('SELECT * FROM schedule_claims WHERE scope = $1 ORDER BY workflow, slot_ms', [scope])
      ).map(claimOf),
    close: () => pool.end(),
  };
}
