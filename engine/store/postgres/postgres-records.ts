/**
 * Logs, cache entries and receipts on PostgreSQL: single statements, no transaction needed (on a
 * fenced view the fence rides in the statement).
 */
import type { Db } from './reconnect.ts';
import type { CacheEntry, ReceiptRecord, StoredLogLine } from '../store.ts';
import { toCacheEntry, toLogLine, toReceipt, type Row } from '../sqlite/rows.ts';
import { cacheEntryValues, receiptValues } from '../row-values.ts';
import type { Fence } from '../async-store.ts';
import { checkFenceToken, fenceClause } from './postgres-leases.ts';

async function all(db: Db, sql: string, args: unknown[]): Promise<Row[]> {
  return (await db.query<Row>(sql, args)).rows;
}

/** One statement; with `fence`, the fence rides in it (postgres-leases.ts `fenceClause`). */
export async function appendLogs(db: Db, lines: StoredLogLine[], fence?: Fence): Promise<void> {
  if (lines.length === 0) return;
  const args: unknown[] = [
    lines.map((l) => l.runId),
    lines.map((l) => l.taskId),
    lines.map((l) => l.attempt),
    lines.map((l) => l.stream),
    lines.map((l) => l.time),
    lines.map((l) => l.text),
  ];
  const f = fenceClause(fence, args);
  const { rows } = await db.query<Row>(
    `WITH ${f.with}ins AS (
       INSERT INTO logs (run_id, task_id, attempt, stream, time, text)
         SELECT run_id, task_id, attempt, stream, time, text
           FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::bigint[], $6::text[])
             WITH ORDINALITY AS x (run_id, task_id, attempt, stream, time, text, n) WHERE ${f.ok} ORDER BY n)
     SELECT ${f.token}`,
    args,
  );
  checkFenceToken(rows[0], fence);
}

export async function listLogs(
  db: Db,
  runId: string,
  taskId?: string | null,
  afterId = 0,
): Promise<(StoredLogLine & { id: number })[]> {
  const rows =
    taskId === undefined
      ? await all(db, 'SELECT * FROM logs WHERE run_id = $1 AND id > $2 ORDER BY id', [runId, afterId])
      : taskId === null
        ? await all(db, 'SELECT * FROM logs WHERE run_id = $1 AND task_id IS NULL AND id > $2 ORDER BY id', [
            runId,
            afterId,
          ])
        : await all(db, 'SELECT * FROM logs WHERE run_id = $1 AND task_id = $2 AND id > $3 ORDER BY id', [
            runId,
            taskId,
            afterId,
          ]);
  return rows.map(toLogLine);
}

export async function getCacheEntry(db: Db, key: string, now: number): Promise<CacheEntry | undefined> {
  const r = (
    await all(db, 'SELECT * FROM cache_entries WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)', [
      key,
      now,
    ])
  )[0];
  return r ? toCacheEntry(r) : undefined;
}

export async function putCacheEntry(db: Db, e: CacheEntry): Promise<void> {
  await db.query(
    `INSERT INTO cache_entries (key, run_id, task_id, attempt, outputs, artifacts_dir, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (key) DO UPDATE SET run_id = excluded.run_id, task_id = excluded.task_id, attempt = excluded.attempt,
         outputs = excluded.outputs, artifacts_dir = excluded.artifacts_dir, created_at = excluded.created_at,
         expires_at = excluded.expires_at`,
    cacheEntryValues(e),
  );
}

/** One statement; with `fence`, the fence rides in it (postgres-leases.ts `fenceClause`). */
export async function putReceipt(db: Db, r: ReceiptRecord, fence?: Fence): Promise<void> {
  const args: unknown[] = receiptValues(r);
  const f = fenceClause(fence, args);
  const { rows } = await db.query<Row>(
    `WITH ${f.with}ins AS (
       INSERT INTO receipts (run_id, task_id, attempt, digest, bundle, created_at)
       SELECT $1::text, $2::text, $3::integer, $4::text, $5::json, $6::bigint WHERE ${f.ok})
     SELECT ${f.token}`,
    args,
  );
  checkFenceToken(rows[0], fence);
}

export async function listReceipts(db: Db, runId: string): Promise<ReceiptRecord[]> {
  return (
    await all(db, 'SELECT * FROM receipts WHERE run_id = $1 ORDER BY created_at, task_id, attempt', [runId])
  ).map(toReceipt);
}
