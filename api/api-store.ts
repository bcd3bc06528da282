/**
 * The server's own durable state beside the engine's store: stored workflows (manifest and plan
 * by digest), API tokens (their SHA-256 only) and idempotency keys. SQLite through node:sqlite in
 * `<data-dir>/api.sqlite`, so `maestro tokens create` and the server share it without a server.
 */
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { ensurePrivateDatabaseFile, ensurePrivateDir, type Plan, type ApiBody } from '../core/index.ts';
import type { Scope } from './tokens.ts';

export interface StoredWorkflow {
  seq: number;
  digest: string;
  name: string;
  namespace: string;
  kind: string;
  manifest: string;
  plan: Plan;
  source: ApiBody.SourceRef | null;
  createdAt: number;
}

export interface StoredToken {
  id: string;
  name: string;
  hash: string;
  scopes: Scope[];
  user: string;
  /** Empty: every namespace. */
  namespaces: string[];
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

export interface WorkflowQuery {
  namespace?: string;
  name?: string;
  /** Only namespaces in this list (a namespace-limited token). */
  namespaces?: string[];
  /** Keyset: rows with seq below this. */
  beforeSeq?: number;
  limit: number;
}

export interface ApiStore {
  /** Inserts unless the digest is there; says which. */
  putWorkflow(workflow: Omit<StoredWorkflow, 'seq'>): { created: boolean };
  getWorkflow(digest: string): StoredWorkflow | undefined;
  latestWorkflow(namespace: string, name: string): StoredWorkflow | undefined;
  listWorkflows(query: WorkflowQuery): StoredWorkflow[];
  putToken(token: StoredToken): void;
  tokenByHash(hash: string): StoredToken | undefined;
  listTokens(): StoredToken[];
  /** False when no such token (or already revoked). */
  revokeToken(id: string, now: number): boolean;
  /** The run an idempotency key already made, or records `runId` for it; one transaction. */
  claimIdempotencyKey(
    key: string,
    tokenId: string,
    bodyDigest: string,
    runId: string,
    now: number,
  ): { runId: string; bodyDigest: string; fresh: boolean };
  releaseIdempotencyKey(key: string, tokenId: string): void;
  close(): void;
}

export function openApiStore(dataDir: string): ApiStore {
  ensurePrivateDir(dataDir);
  const file = join(dataDir, 'api.sqlite');
  // 0600: token hashes are not secrets, but who may do what is.
  ensurePrivateDatabaseFile(file);
  const db = new DatabaseSync(file);
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    PRAGMA busy_timeout = 5000;
    CREATE TABLE IF NOT EXISTS workflows (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, digest TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
      namespace TEXT NOT NULL, kind TEXT NOT NULL, manifest TEXT NOT NULL, plan TEXT NOT NULL,
      source TEXT, created_at INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS workflows_by_name ON workflows (namespace, name, seq);
    CREATE TABLE IF NOT EXISTS tokens (
      id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, scopes TEXT NOT NULL,
      user TEXT NOT NULL, namespaces TEXT NOT NULL, created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL, revoked_at INTEGER);
    CREATE TABLE IF NOT EXISTS idempotency_keys (
      key TEXT NOT NULL, token_id TEXT NOT NULL, body_digest TEXT NOT NULL, run_id TEXT NOT NULL,
      created_at INTEGER NOT NULL, PRIMARY KEY (key, token_id));
  `);
  const all = (sql: string, ...args: SQLInputValue[]) =>
    db.prepare(sql).all(...args) as Record<string, SQLInputValue>[];
  const one = (sql: string, ...args: SQLInputValue[]) =>
    db.prepare(sql).get(...args) as Record<string, SQLInputValue> | undefined;
  return {
    putWorkflow(w) {
      const result = db
        .prepare(
          `INSERT INTO workflows (digest, name, namespace, kind, manifest, plan, source, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`,
        )
        .run(
          w.digest,
          w.name,
          w.namespace,
          w.kind,
          w.manifest,
          JSON.stringify(w.plan),
          w.source ? JSON.stringify(w.source) : null,
          w.createdAt,
        );
      return { created: result.changes === 1 };
    },
    getWorkflow: (digest) => toWorkflow(one('SELECT * FROM workflows WHERE digest = ?', digest)),
    latestWorkflow: (namespace, name) =>
      toWorkflow(
        one(
          'SELECT * FROM workflows WHERE namespace = ? AND name = ? ORDER BY seq DESC LIMIT 1',
          namespace,
          name,
        ),
      ),
    listWorkflows(q) {
      const where: string[] = [];
      const args: SQLInputValue[] = [];
      const add = (clause: string, ...values: SQLInputValue[]) => {
        where.push(clause);
        args.push(...values);
      };
      if (q.namespace !== undefined) add('namespace = ?', q.namespace);
      if (q.name !== undefined) add('name = ?', q.name);
      if (q.namespaces)
        add(`namespace IN (${q.namespaces.map(() => '?').join(', ') || "''"})`, ...q.namespaces);
      if (q.beforeSeq !== undefined) add('seq < ?', q.beforeSeq);
      const sql = `SELECT * FROM workflows ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
      return all(sql, ...args, q.limit).map((row) => toWorkflow(row)!);
    },
    putToken(t) {
      db.prepare(
        `INSERT INTO tokens (id, name, hash, scopes, user, namespaces, created_at, expires_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(
        t.id,
        t.name,
        t.hash,
        JSON.stringify(t.scopes),
        t.user,
        JSON.stringify(t.namespaces),
        t.createdAt,
        t.expiresAt,
        t.revokedAt,
      );
    },
    tokenByHash: (hash) => toToken(one('SELECT * FROM tokens WHERE hash = ?', hash)),
    listTokens: () => all('SELECT * FROM tokens ORDER BY created_at, id').map((row) => toToken(row)!),
    revokeToken: (id, now) =>
      db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(now, id)
        .changes === 1,
    claimIdempotencyKey(key, tokenId, bodyDigest, runId, now) {
      db.prepare(
        `INSERT INTO idempotency_keys (key, token_id, body_digest, run_id, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key, token_id) DO NOTHING`,
      ).run(key, tokenId, bodyDigest, runId, now);
      const row = one('SELECT * FROM idempotency_keys WHERE key = ? AND token_id = ?', key, tokenId)!;
      return {
        runId: String(row.run_id),
        bodyDigest: String(row.body_digest),
        fresh: row.run_id === runId,
      };
    },
    releaseIdempotencyKey(key, tokenId) {
      db.prepare('DELETE FROM idempotency_keys WHERE key = ? AND token_id = ?').run(key, tokenId);
    },
    close: () => db.close(),
  };
}

function toWorkflow(row: Record<string, SQLInputValue> | undefined): StoredWorkflow | undefined {
  if (!row) return undefined;
  return {
    seq: Number(row.seq),
    digest: String(row.digest),
    name: String(row.name),
    namespace: String(row.namespace),
    kind: String(row.kind),
    manifest: String(row.manifest),
    plan: JSON.parse(String(row.plan)) as Plan,
    source: row.source === null ? null : (JSON.parse(String(row.source)) as ApiBody.SourceRef),
    createdAt: Number(row.created_at),
  };
}

function toToken(row: Record<string, SQLInputValue> | undefined): StoredToken | undefined {
  if (!row) return undefined;
  return {
    id: String(row.id),
    name: String(row.name),
    hash: String(row.hash),
    scopes: JSON.parse(String(row.scopes)) as Scope[],
    user: String(row.user),
    namespaces: JSON.parse(String(row.namespaces)) as string[],
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}
