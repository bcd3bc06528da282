import type { DatabaseSync } from 'node:sqlite';

/** Where a slot's claim stands: `claimed` (being dispatched, or its owner died), `fired`, `skipped`. */
export type ClaimState = 'claimed' | 'fired' | 'skipped';

/**
 * One (scope, workflow, slot) claim. The run id is chosen when the slot is claimed and stored with
 * it, so whoever completes the claim (its owner, or a process taking it over after the owner's
 * lease ran out) dispatches that same run id: dispatch is idempotent by it.
 */
export interface SlotClaim {
  /** The repository (or whatever the source groups workflows by). */
  scope: string;
  workflow: string;
  slotMs: number;
  runId: string;
  owner: string;
  claimedAt: number;
  leaseUntil: number;
  state: ClaimState;
  detail?: string;
}

/**
 * The scheduler's durable state (the port): SQLite below, in the App's file; PostgreSQL in
 * postgres-schedule-store.ts, so replicas on one database fire each slot once. Both are held to
 * one contract (test/store-contract/schedule-store-contract.ts).
 */
export interface ScheduleStore {
  /** The instant up to which this workflow's slots were already considered. */
  watermark(scope: string, workflow: string): Promise<number | undefined>;
  /** Moves the watermark forward (never back), creating it on first sight. */
  advanceWatermark(scope: string, workflow: string, toMs: number): Promise<void>;
  /** INSERT of the claim: false when (scope, workflow, slot) was claimed already, by anyone. */
  claim(claim: Omit<SlotClaim, 'state' | 'detail'>): Promise<boolean>;
  /**
   * Takes a `claimed` slot whose lease has run out (its owner stopped between claim and
   * dispatch): a compare-and-set, so of several processes one gets it.
   */
  takeOver(
    scope: string,
    workflow: string,
    slotMs: number,
    owner: string,
    now: number,
    leaseUntil: number,
  ): Promise<SlotClaim | undefined>;
  /** Claims still `claimed` whose lease ran out at `now`. */
  expired(now: number): Promise<SlotClaim[]>;
  /** Only the claim's current owner, and only while it is `claimed`, settles it. */
  finish(
    scope: string,
    workflow: string,
    slotMs: number,
    owner: string,
    state: 'fired' | 'skipped',
    detail?: string,
  ): Promise<void>;
  get(scope: string, workflow: string, slotMs: number): Promise<SlotClaim | undefined>;
  list(scope?: string): Promise<SlotClaim[]>;
}

/**
 * The schedule tables in an open SQLite database (the App's file). node:sqlite is synchronous:
 * each method runs at once and returns a settled promise.
 */
export function openScheduleStore(db: DatabaseSync): ScheduleStore {
  db.exec(`
    CREATE TABLE IF NOT EXISTS schedule_watermarks (
      scope TEXT NOT NULL, workflow TEXT NOT NULL, through_ms INTEGER NOT NULL,
      PRIMARY KEY (scope, workflow));
    CREATE TABLE IF NOT EXISTS schedule_claims (
      scope TEXT NOT NULL, workflow TEXT NOT NULL, slot_ms INTEGER NOT NULL, run_id TEXT NOT NULL,
      owner TEXT NOT NULL, claimed_at INTEGER NOT NULL, lease_until INTEGER NOT NULL,
      state TEXT NOT NULL, detail TEXT,
      PRIMARY KEY (scope, workflow, slot_ms));
    CREATE INDEX IF NOT EXISTS schedule_claims_open ON schedule_claims (state, lease_until);
  `);
  const selectMark = db.prepare(
    'SELECT through_ms FROM schedule_watermarks WHERE scope = ? AND workflow = ?',
  );
  const upsertMark = db.prepare(`
    INSERT INTO schedule_watermarks VALUES (?, ?, ?)
    ON CONFLICT (scope, workflow) DO UPDATE SET through_ms = MAX(through_ms, excluded.through_ms)`);
  // No OR IGNORE / ON CONFLICT: the primary key refuses a second claim of the slot.
  const insertClaim = db.prepare(`INSERT INTO schedule_claims VALUES (?, ?, ?, ?, ?, ?, ?, 'claimed', NULL)`);
  const takeOver = db.prepare(`
    UPDATE schedule_claims SET owner = ?, lease_until = ?
    WHERE scope = ? AND workflow = ? AND slot_ms = ? AND state = 'claimed' AND lease_until <= ?`);
  const selectExpired = db.prepare(
    `SELECT * FROM schedule_claims WHERE state = 'claimed' AND lease_until <= ? ORDER BY slot_ms`,
  );
  const finish = db.prepare(`
    UPDATE schedule_claims SET state = ?, detail = ?
    WHERE scope = ? AND workflow = ? AND slot_ms = ? AND owner = ? AND state = 'claimed'`);
  const select = db.prepare('SELECT * FROM schedule_claims WHERE scope = ? AND workflow = ? AND slot_ms = ?');
  const listAll = db.prepare('SELECT * FROM schedule_claims ORDER BY scope, workflow, slot_ms');
  const listScope = db.prepare('SELECT * FROM schedule_claims WHERE scope = ? ORDER BY workflow, slot_ms');
  const get = (scope: string, workflow: string, slotMs: number) => {
    const row = select.get(scope, workflow, slotMs);
    return row ? claimOf(row) : undefined;
  };
  return {
    watermark: async (scope, workflow) => {
      const row = selectMark.get(scope, workflow);
      return row ? Number(row.through_ms) : undefined;
    },
    advanceWatermark: async (scope, workflow, toMs) => void upsertMark.run(scope, workflow, toMs),
    claim: async (c) => {
      try {
        insertClaim.run(c.scope, c.workflow, c.slotMs, c.runId, c.owner, c.claimedAt, c.leaseUntil);
        return true;
      } catch (error) {
        if ((error as { errcode?: number }).errcode === SQLITE_CONSTRAINT_PRIMARYKEY) return false;
        throw error;
      }
    },
    takeOver: async (scope, workflow, slotMs, owner, now, leaseUntil) =>
      Number(takeOver.run(owner, leaseUntil, scope, workflow, slotMs, now).changes) === 1
        ? get(scope, workflow, slotMs)
        : undefined,
    expired: async (now) => selectExpired.all(now).map(claimOf),
    finish: async (scope, workflow, slotMs, owner, state, detail) =>
      void finish.run(state, detail ?? null, scope, workflow, slotMs, owner),
    get: async (scope, workflow, slotMs) => get(scope, workflow, slotMs),
    list: async (scope) => (scope === undefined ? listAll.all() : listScope.all(scope)).map(claimOf),
  };
}

const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;

/** A claim row of either store (PostgreSQL's int8 columns come back as strings). */
export function claimOf(row: Record<string, unknown>): SlotClaim {
  return {
    scope: String(row.scope),
    workflow: String(row.workflow),
    slotMs: Number(row.slot_ms),
    runId: String(row.run_id),
    owner: String(row.owner),
    claimedAt: Number(row.claimed_at),
    leaseUntil: Number(row.lease_until),
    state: String(row.state) as ClaimState,
    ...(row.detail === null || row.detail === undefined ? {} : { detail: String(row.detail) }),
  };
}
