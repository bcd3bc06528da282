/**
 * Leases, fencing and claims on PostgreSQL, each run inside the caller's transaction. Tokens come
 * from the `lease_tokens` sequence: strictly increasing across every lease, never reused.
 * Checking a fence locks the lease row (`FOR UPDATE`), so no other transaction can take the lease
 * over between the check and the write it guards.
 */
import type { PoolClient } from 'pg';
import type { Db } from './reconnect.ts';
import { LeaseLostError } from '../../errors.ts';
import { taskLeaseName, type Fence, type TaskClaim } from '../async-store.ts';
import type { Lease, RunRecord, TaskRecord } from '../store.ts';
import { toRun, toTask } from '../sqlite/rows.ts';
import { loadedPg } from './load-pg.ts';
import { prepared, type Prepared } from './prepared.ts';

type Row = Record<string, unknown>;

export function toLease(r: Row): Lease {
  return {
    name: String(r.name),
    owner: String(r.owner),
    token: Number(r.token),
    expiresAt: Number(r.expires_at),
  };
}

const ACQUIRE = prepared(
  `INSERT INTO leases (name, owner, token, expires_at) VALUES ($1, $2, nextval('lease_tokens'), $3)
     ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = excluded.token, expires_at = excluded.expires_at
     WHERE $4 OR leases.owner = excluded.owner OR leases.expires_at < $5
   RETURNING *`,
);
const LEASE_OWNER = prepared('SELECT owner FROM leases WHERE name = $1');
const CHECK_FENCE = prepared('SELECT token, expires_at FROM leases WHERE name = $1 FOR UPDATE');

/** Takes the lease when free, expired, ours, or forced; one statement, so it cannot interleave. */
export async function acquire(
  c: Db,
  name: string,
  owner: string,
  now: number,
  ttlMs: number,
  force: boolean,
): Promise<Lease> {
  const { rows } = await c.query<Row>(ACQUIRE, [name, owner, now + ttlMs, force, now]);
  if (rows[0]) return toLease(rows[0]);
  const current = await c.query<Row>(LEASE_OWNER, [name]);
  throw new LeaseLostError(name, { details: { owner: String(current.rows[0]?.owner) } });
}

/** Throws LeaseLostError unless `token` is the lease's current, unexpired token; locks the row. */
export async function checkFence(c: PoolClient, name: string, token: number, now: number): Promise<void> {
  const { rows } = await c.query<Row>(CHECK_FENCE, [name]);
  const lease = rows[0];
  if (!lease || Number(lease.token) !== token || Number(lease.expires_at) < now)
    throw new LeaseLostError(name);
}

/**
 * Claims the most urgent ready task. `FOR UPDATE SKIP LOCKED` lets concurrent claimers pass over
 * rows another claimer holds instead of queueing on them; the claim writes `claim_expires_at` on
 * the task row itself, so a claimer that read the row before another's commit re-checks the
 * predicate on the new row version (READ COMMITTED's update re-check) and skips it. The lease
 * row check also honours a claim renewed through `acquireLease`.
 */
export async function claimReadyTask(
  c: PoolClient,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<TaskClaim | null> {
  const { rows } = await c.query<Row>(CLAIM_READY_TASK, [now, now + leaseMs]);
  const row = rows[0];
  if (!row) return null;
  const runId = String(row.run_id);
  const taskId = String(row.task_id);
  const lease = await acquire(c, taskLeaseName(runId, taskId), owner, now, leaseMs, true);
  return { runId, taskId, owner, token: lease.token, expiresAt: lease.expiresAt };
}

const CLAIM_READY_TASK = prepared(
  `WITH candidate AS (
       SELECT t.run_id, t.task_id FROM tasks t JOIN runs r ON r.id = t.run_id
        WHERE t.state = 'ready' AND (t.not_before IS NULL OR t.not_before <= $1)
          AND (t.claim_expires_at IS NULL OR t.claim_expires_at < $1)
          AND NOT EXISTS (SELECT 1 FROM leases l
                           WHERE l.name = 'task:' || t.run_id || '/' || t.task_id AND l.expires_at >= $1)
        ORDER BY r.priority DESC, r.seq, t.position
        LIMIT 1 FOR UPDATE OF t SKIP LOCKED)
     UPDATE tasks t SET claim_expires_at = $2 FROM candidate c
      WHERE t.run_id = c.run_id AND t.task_id = c.task_id RETURNING t.run_id, t.task_id`,
);

/**
 * A fenced write's check (AsyncStore.fenced): the token only, under a share lock on the lease row,
 * so concurrent writes of the same holder do not queue on each other while a takeover (which
 * updates the row) waits for them to commit, and they for it. The statement is sent with the
 * transaction's BEGIN (one round trip, so without parameters: the name is quoted as a literal).
 */
export function tokenCheckSql(fence: Fence): string {
  return `SELECT token FROM leases WHERE name = ${loadedPg().escapeLiteral(fence.name)} FOR SHARE`;
}

/** Throws LeaseLostError unless the rows of `tokenCheckSql` hold the fence's token. */
export function checkTokenRows(rows: readonly Row[], fence: Fence): void {
  if (Number(rows[0]?.token) !== fence.token) throw new LeaseLostError(fence.name);
}

const RENEW = prepared('UPDATE leases SET expires_at = $1 WHERE name = $2 AND token = $3 RETURNING *');
const RENEW_HELD = prepared(
  `UPDATE leases l SET expires_at = $1 FROM unnest($2::text[], $3::bigint[]) AS x (name, token)
    WHERE l.name = x.name AND l.token = x.token RETURNING l.name`,
);
const RELEASE = prepared(
  'UPDATE leases SET expires_at = 0 WHERE name = $1 AND owner = $2 AND ($3::bigint IS NULL OR token = $3)',
);

/** Renews every lease of `held` still under its token, in one statement; the names renewed. */
export async function renewHeld(db: Db, held: readonly Fence[], expiresAt: number): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(RENEW_HELD, [
    expiresAt,
    held.map((f) => f.name),
    held.map((f) => f.token),
  ]);
  return rows.map((r) => r.name);
}

/** Ends the lease now if `owner` holds it (under `token`, when given). */
export async function release(db: Db, name: string, owner: string, token?: number): Promise<void> {
  await db.query(RELEASE, [name, owner, token ?? null]);
}

/** Extends a lease under its current token (AsyncStore.renewLease). */
export async function renew(c: Db, name: string, token: number, now: number, ttlMs: number): Promise<Lease> {
  const { rows } = await c.query<Row>(RENEW, [now + ttlMs, name, token]);
  if (!rows[0]) throw new LeaseLostError(name);
  return toLease(rows[0]);
}

/**
 * Claims the most urgent run that needs an executor (AsyncStore.claimRun). Every run has its
 * `run:<id>` lease row from its creation (createRun, migration 2), so the claim locks lease rows
 * only: `FOR UPDATE ... SKIP LOCKED` passes over rows another claimer, or a holder's fenced write
 * (FOR SHARE), has locked, instead of queueing on them. READ COMMITTED re-checks the expiry on
 * the locked row's newest version, so a lease renewed after the claim's snapshot is skipped.
 *
 * One round trip, one prepared statement: the function `maestro_claim_run` (migration 11) takes
 * the runs quota's lock when some namespace has a runs quota (claims then take turns, so two
 * replicas cannot both take a namespace's last slot; without quotas no row, no lock), claims,
 * writes the quota wait lines and returns the claimed lease with its run and tasks, in one
 * implicit transaction (rolled back whole if any part fails), each of its statements with its own
 * snapshot: the claim sees every claim committed before the lock was granted, and the run is read
 * after the claim locked its lease (a late write of the run's previous executor either committed
 * before, and is seen, or comes after and is refused by its fence), and so are its tasks (what the
 * execution's `listTasks` read). The same statements went as a multi-statement simple query,
 * parsed and planned on every call (1.7 ms of the database's CPU per run); four round trips before.
 */
export async function claimRun(
  db: Db,
  owner: string,
  now: number,
  leaseMs: number,
): Promise<RunClaim | null> {
  const { rows } = await db.query<Row>(CLAIM_RUN, [owner, now, now + leaseMs]);
  const row = rows[0];
  if (!row) return null;
  const run = row.run === null ? undefined : jsonColumnsAsText(JSON.parse(String(row.run)) as Row);
  if (!run || `run:${String(run.id)}` !== row.name) return toLease(row);
  return { ...toLease(row), run: toRun(run), tasks: (JSON.parse(String(row.tasks)) as Row[]).map(toTask) };
}

/** A claimed run's lease, with the run and its tasks as the claim read them. */
export type RunClaim = Lease & { run?: RunRecord; tasks?: TaskRecord[] };

const CLAIM_RUN = prepared('SELECT * FROM maestro_claim_run($1, $2::bigint, $3::bigint)');

/**
 * A run row that came as JSON (row_to_json) as the driver returns a row of `runs`: its json
 * columns as their text (open-pool.ts), which toRun parses. Task rows have no json column.
 */
function jsonColumnsAsText(run: Row): Row {
  for (const column of ['plan', 'params', 'source'])
    if (run[column] !== null && run[column] !== undefined) run[column] = JSON.stringify(run[column]);
  return run;
}

/** The advisory lock class of a namespace's tasks quota ('mqtt'); the namespace's hash is the key. */
const TASK_QUOTA_LOCK_CLASS = 0x6d717474;

/**
 * Takes run `runId`'s namespace's tasks quota lock (transaction-scoped) when it has a tasks
 * quota, so attempt starts in that namespace take turns and each one's count (taken after the
 * lock, in a fresh snapshot) sees every start committed before it (insertAttempt says when this
 * is needed). Namespaces without a quota never wait on each other. Why a lock: under READ
 * COMMITTED two starts counting at once both see the last slot free (the store contract measured
 * it, test/store-contract/budget-contract.ts).
 */
export async function lockTaskQuota(c: Db, runId: string): Promise<void> {
  await c.query(LOCK_TASK_QUOTA, [runId]);
}

const LOCK_TASK_QUOTA = prepared(
  `SELECT pg_advisory_xact_lock(${TASK_QUOTA_LOCK_CLASS}, hashtext(b.namespace)) AS locked
     FROM runs r JOIN namespace_budgets b ON b.namespace = r.namespace WHERE r.id = $1 AND b.max_tasks IS NOT NULL`,
);

/**
 * The fence riding inside one statement (a fenced write that needs no transaction of its own): a
 * CTE share-locks the lease row as `tokenCheckSql` does, every write of the statement is
 * conditioned on its token, and the statement returns the token it saw (`fence_token`), which
 * `checkFenceToken` checks. Appends its parameters to `args`. Unfenced: no CTE, always true.
 */
export function fenceClause(
  fence: Fence | undefined,
  args: unknown[],
): { with: string; ok: string; token: string } {
  if (!fence) return { with: '', ok: 'TRUE', token: 'NULL::bigint AS fence_token' };
  args.push(fence.name, fence.token);
  return {
    with: `fence AS (SELECT token FROM leases WHERE name = $${args.length - 1} FOR SHARE), `,
    ok: `(SELECT token FROM fence) = $${args.length}::bigint`,
    token: '(SELECT token FROM fence) AS fence_token',
  };
}

/** A clause's SQL, as fenceClause returns it. */
export type FenceSql = ReturnType<typeof fenceClause>;

/**
 * A statement the fence may ride in, prepared (prepared.ts) in its two texts, unfenced and
 * fenced, the fence's parameters after the `argCount` others. Given the call's arguments (that
 * many), it appends the fence's as fenceClause does and returns the text to send.
 */
export function fencedStatement(
  argCount: number,
  build: (f: FenceSql) => string,
): (fence: Fence | undefined, args: unknown[]) => Prepared {
  const placeholder = { name: '', token: 0 };
  const plain = prepared(build(fenceClause(undefined, [])));
  const fenced = prepared(build(fenceClause(placeholder, new Array<unknown>(argCount))));
  return (fence, args) => {
    if (args.length !== argCount) throw new Error(`${argCount} arguments expected, ${args.length} given`);
    fenceClause(fence, args);
    return fence ? fenced : plain;
  };
}

/**
 * An attempt's heartbeat in one statement (was a transaction of four round trips: BEGIN with the
 * run's fence, the lease row locked and checked, its expiry moved, COMMIT): the lease is extended
 * only while it holds `token` and has not expired, and, on a fenced view, while the run's lease
 * holds the fence's token; which of the two refused is told apart as the transaction did.
 */
export async function heartbeatAttempt(
  db: Db,
  attemptId: string,
  token: number,
  now: number,
  expiresAt: number,
  fence?: Fence,
): Promise<void> {
  const name = `attempt:${attemptId}`;
  const args: unknown[] = [name, token, now, expiresAt];
  const { rows } = await db.query<Row>(HEARTBEAT(fence, args), args);
  checkFenceToken(rows[0], fence);
  if (!rows[0]?.beat) throw new LeaseLostError(name);
}

const HEARTBEAT = fencedStatement(
  4,
  (f) => `WITH ${f.with}beat AS (
       UPDATE leases SET expires_at = $4::bigint
        WHERE name = $1 AND token = $2::bigint AND expires_at >= $3::bigint AND ${f.ok} RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM beat) AS beat, ${f.token}`,
);

/** Throws LeaseLostError when a fenced statement saw another token (or no lease row). */
export function checkFenceToken(row: Row | undefined, fence: Fence | undefined): void {
  if (fence && Number(row?.fence_token) !== fence.token) throw new LeaseLostError(fence.name);
}
