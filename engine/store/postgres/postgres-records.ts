/**
 * Logs, cache entries and receipts on PostgreSQL: single statements, no transaction needed (on a
 * fenced view the fence rides in the statement).
 */
import type { Db } from './reconnect.ts';
import type { CacheEntry, ReceiptDigest, ReceiptRecord, StoredLogLine } from '../store.ts';
import { toCacheEntry, toLogLine, toReceipt, type Row } from '../sqlite/rows.ts';
import { cacheEntryValues, receiptValues } from '../row-values.ts';
import type { Fence } from '../async-store.ts';
import { checkFenceToken, fencedStatement } from './postgres-leases.ts';
import { prepared, type Prepared } from './prepared.ts';

async function all(db: Db, sql: Prepared, args: unknown[]): Promise<Row[]> {
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
  const { rows } = await db.query<Row>(APPEND_LOGS(fence, args), args);
  checkFenceToken(rows[0], fence);
}

const APPEND_LOGS = fencedStatement(
  6,
  (f) => `WITH ${f.with}ins AS (
       INSERT INTO logs (run_id, task_id, attempt, stream, time, text)
         SELECT run_id, task_id, attempt, stream, time, text
           FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::bigint[], $6::text[])
             WITH ORDINALITY AS x (run_id, task_id, attempt, stream, time, text, n) WHERE ${f.ok} ORDER BY n)
     SELECT ${f.token}`,
);
const LOGS_ALL = prepared('SELECT * FROM logs WHERE run_id = $1 AND id > $2 ORDER BY id');
const LOGS_RUN = prepared('SELECT * FROM logs WHERE run_id = $1 AND task_id IS NULL AND id > $2 ORDER BY id');
const LOGS_TASK = prepared('SELECT * FROM logs WHERE run_id = $1 AND task_id = $2 AND id > $3 ORDER BY id');

export async function listLogs(
  db: Db,
  runId: string,
  taskId?: string | null,
  afterId = 0,
): Promise<(StoredLogLine & { id: number })[]> {
  const rows =
    taskId === undefined
      ? await all(db, LOGS_ALL, [runId, afterId])
      : taskId === null
        ? await all(db, LOGS_RUN, [runId, afterId])
        : await all(db, LOGS_TASK, [runId, taskId, afterId]);
  return rows.map(toLogLine);
}

const CACHE_ENTRY = prepared(
  'SELECT * FROM cache_entries WHERE key = $1 AND (expires_at IS NULL OR expires_at > $2)',
);

export async function getCacheEntry(db: Db, key: string, now: number): Promise<CacheEntry | undefined> {
  const r = (await all(db, CACHE_ENTRY, [key, now]))[0];
  return r ? toCacheEntry(r) : undefined;
}

export async function putCacheEntry(db: Db, e: CacheEntry): Promise<void> {
  await db.query(PUT_CACHE_ENTRY, cacheEntryValues(e));
}

const PUT_CACHE_ENTRY = prepared(
  `INSERT INTO cache_entries (key, run_id, task_id, attempt, outputs, artifacts_dir, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (key) DO UPDATE SET run_id = excluded.run_id, task_id = excluded.task_id, attempt = excluded.attempt,
       outputs = excluded.outputs, artifacts_dir = excluded.artifacts_dir, created_at = excluded.created_at,
       expires_at = excluded.expires_at`,
);

/** One statement; with `fence`, the fence rides in it (postgres-leases.ts `fenceClause`). */
export async function putReceipt(db: Db, r: ReceiptRecord, fence?: Fence): Promise<void> {
  const args: unknown[] = receiptValues(r);
  const { rows } = await db.query<Row>(PUT_RECEIPT(fence, args), args);
  checkFenceToken(rows[0], fence);
}

const PUT_RECEIPT = fencedStatement(
  6,
  (f) => `WITH ${f.with}ins AS (
       INSERT INTO receipts (run_id, task_id, attempt, digest, bundle, created_at)
       SELECT $1::text, $2::text, $3::integer, $4::text, $5::json, $6::bigint WHERE ${f.ok})
     SELECT ${f.token}`,
);
const RECEIPTS = prepared('SELECT * FROM receipts WHERE run_id = $1 ORDER BY created_at, task_id, attempt');

const RECEIPT_DIGESTS = prepared(
  'SELECT task_id, attempt, digest FROM receipts WHERE run_id = $1 ORDER BY created_at, task_id, attempt',
);

export async function listReceiptDigests(db: Db, runId: string): Promise<ReceiptDigest[]> {
  return (await all(db, RECEIPT_DIGESTS, [runId])).map((r) => ({
    taskId: String(r.task_id),
    attempt: Number(r.attempt),
    digest: String(r.digest),
  }));
}

export async function listReceipts(db: Db, runId: string): Promise<ReceiptRecord[]> {
  return (await all(db, RECEIPTS, [runId])).map(toReceipt);
}
