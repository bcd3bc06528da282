/**
 * Leases, fencing and claims on SQLite, each run inside the caller's transaction (BEGIN
 * IMMEDIATE: the only writer across the processes sharing the data dir, so a look and the take
 * that follows cannot interleave with another). A lease's token grows by one per take; the row is
 * never deleted, so a token is never reused for its lease.
 */
import { quotaWaitLogSql, underRunQuotaSql } from '../budget-sql.ts';
import type { SQLInputValue } from 'node:sqlite';
import { LeaseLostError } from '../../errors.ts';
import { runLeaseName, taskLeaseName, type Fence, type TaskClaim } from '../async-store.ts';
import type { Lease } from '../store.ts';
import type { Row } from './rows.ts';

/** The statements a lease helper runs, on the store's connection. */
export interface Sql {
  all(sql: string, ...args: SQLInputValue[]): Row[];
  get(sql: string, ...args: SQLInputValue[]): Row | undefined;
  run(sql: string, ...args: SQLInputValue[]): number;
}

export function getLease(sql: Sql, name: string): Lease | undefined {
  const r = sql.get('SELECT * FROM leases WHERE name = ?', name);
  return r
    ? {
        name: String(r.name),
        owner: String(r.owner),
        token: Number(r.token),
        expiresAt: Number(r.expires_at),
      }
    : undefined;
}

/** Takes the lease when free, expired, ours, or forced, under the next token. */
export function acquire(
  sql: Sql,
  name: string,
  owner: string,
  now: number,
  ttlMs: number,
  force: boolean,
): Lease {
  const current = getLease(sql, name);
  if (current && !force && current.owner !== owner && current.expiresAt >= now)
    throw new LeaseLostError(name, { details: { owner: current.owner } });
  const token = (current?.token ?? 0) + 1;
  sql.run(
    `INSERT INTO leases (name, owner, token, expires_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, token = excluded.token, expires_at = excluded.expires_at`,
    name,
    owner,
    token,
    now + ttlMs,
  );
  return { name, owner, token, expiresAt: now + ttlMs };
}

/** Throws LeaseLostError unless `token` is the lease's current, unexpired token. */
export function checkLease(sql: Sql, name: string, token: number, now: number): void {
  const lease = getLease(sql, name);
  if (!lease || lease.token !== token || lease.expiresAt < now) throw new LeaseLostError(name);
}

/** A fenced write's check (AsyncStore.fenced): the token only. */
export function checkToken(sql: Sql, fence: Fence): void {
  const row = sql.get('SELECT token FROM leases WHERE name = ?', fence.name);
  if (!row || Number(row.token) !== fence.token) throw new LeaseLostError(fence.name);
}

/** AsyncStore.renewLease: extends the lease under its current token. */
export function renew(sql: Sql, name: string, token: number, now: number, ttlMs: number): Lease {
  const current = getLease(sql, name);
  if (!current || current.token !== token) throw new LeaseLostError(name);
  sql.run('UPDATE leases SET expires_at = ? WHERE name = ?', now + ttlMs, name);
  return { ...current, expiresAt: now + ttlMs };
}

/**
 * AsyncStore.claimRun: the most urgent queued run, or running one whose lease expired. Through
 * runs_claimable (migration 12), in its order, stopping at the first free run: SQLite's planner
 * otherwise takes runs_status and sorts every queued and running run, for every claim.
 */
export function claimRun(sql: Sql, owner: string, now: number, leaseMs: number): Lease | null {
  const row = sql.get(
    `SELECT r.id FROM runs r INDEXED BY runs_claimable LEFT JOIN leases l ON l.name = 'run:' || r.id
       WHERE r.status IN ('queued', 'running') AND (l.name IS NULL OR l.expires_at < ?1)
         AND ${underRunQuotaSql('?1')}
       ORDER BY r.priority DESC, r.seq LIMIT 1`,
    now,
  );
  const lease = row ? acquire(sql, runLeaseName(String(row.id)), owner, now, leaseMs, false) : null;
  // Inside the claim's transaction: the runs still waiting on their namespace's quota say so.
  sql.run(quotaWaitLogSql('?1'), now);
  return lease;
}

/** AsyncStore.claimReadyTask: the most urgent ready task whose claim lease is free or expired. */
export function claimReadyTask(sql: Sql, owner: string, now: number, leaseMs: number): TaskClaim | null {
  const row = sql.get(
    `SELECT t.run_id, t.task_id FROM tasks t JOIN runs r ON r.id = t.run_id
       LEFT JOIN leases l ON l.name = 'task:' || t.run_id || '/' || t.task_id
       WHERE t.state = 'ready' AND (t.not_before IS NULL OR t.not_before <= ?)
         AND (l.name IS NULL OR l.expires_at < ?)
       ORDER BY r.priority DESC, r.seq, t.position LIMIT 1`,
    now,
    now,
  );
  if (!row) return null;
  const runId = String(row.run_id);
  const taskId = String(row.task_id);
  const lease = acquire(sql, taskLeaseName(runId, taskId), owner, now, leaseMs, false);
  return { runId, taskId, owner, token: lease.token, expiresAt: lease.expiresAt };
}
