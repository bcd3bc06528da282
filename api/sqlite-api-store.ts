/**
 * The API store on SQLite through node:sqlite, in `<data-dir>/api.sqlite` (when
 * MAESTRO_DATABASE_URL is unset). node:sqlite is synchronous: each method runs at once and hands
 * back a settled promise (a throw becomes a rejection), as the engine's asyncSqliteStore does.
 */
import { join } from 'node:path';
import { DatabaseSync, type SQLInputValue } from 'node:sqlite';
import { ensurePrivateDatabaseFile, ensurePrivateDir } from '../core/index.ts';
import { migrateSqlite, type SqliteSchema } from '../engine/index.ts';
import {
  approvalValues,
  toApproval,
  toGrant,
  toPlanLayout,
  toSession,
  toToken,
  toWorkflow,
  tokenValues,
  workflowValues,
  type ApiRow,
} from './api-rows.ts';
import type { ApiStore, SbomLookup } from './api-store.ts';
import {
  COMPONENT_COLUMNS,
  MATCH_SELECT,
  SBOM_COLUMNS,
  componentValues,
  sbomValues,
  toMatch,
  toSbom,
  uniqueComponents,
} from './sbom-rows.ts';

function sbomWhere(lookup: SbomLookup): { sql: string; args: string[] } {
  const where: string[] = [];
  const args: string[] = [];
  const add = (clause: string, value: string) => {
    where.push(clause);
    args.push(value);
  };
  if (lookup.digest !== undefined) add('digest = ?', lookup.digest);
  if (lookup.subjectDigest !== undefined) add('subject_digest = ?', lookup.subjectDigest);
  if (lookup.releaseVersion !== undefined) add("kind = 'release' AND version = ?", lookup.releaseVersion);
  return { sql: where.length ? where.join(' AND ') : '1 = 0', args };
}

/**
 * Version 1 is the schema from before versioning, with IF NOT EXISTS: a data dir created then is
 * adopted as version 1 unchanged.
 */
const sqliteApiSchema: SqliteSchema = {
  table: 'schema_migrations',
  migrations: [
    {
      version: 1,
      sql: `
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
`,
    },
    {
      // Console sessions: the SHA-256 of the cookie, and the hash of the token it acts with.
      version: 2,
      sql: `
    CREATE TABLE sessions (
      hash TEXT PRIMARY KEY, token_hash TEXT NOT NULL, created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL);
    CREATE INDEX sessions_by_expiry ON sessions (expires_at);
`,
    },
    {
      // Approvals through the API and the grants that released runs: the runs' evidence, so
      // append-only in the database itself (an approval's row is never rewritten or removed).
      version: 3,
      sql: `
    CREATE TABLE run_approvals (
      run_id TEXT NOT NULL, approver_key TEXT NOT NULL, approver TEXT NOT NULL, digest TEXT NOT NULL,
      bundle TEXT NOT NULL, approved_at INTEGER NOT NULL, PRIMARY KEY (run_id, approver_key));
    CREATE TABLE run_approval_grants (
      run_id TEXT PRIMARY KEY, digest TEXT NOT NULL, bundle TEXT NOT NULL, granted_at INTEGER NOT NULL);
    CREATE TRIGGER run_approvals_no_update BEFORE UPDATE ON run_approvals
      BEGIN SELECT RAISE(ABORT, 'run approvals are append-only'); END;
    CREATE TRIGGER run_approvals_no_delete BEFORE DELETE ON run_approvals
      BEGIN SELECT RAISE(ABORT, 'run approvals are append-only'); END;
    CREATE TRIGGER run_approval_grants_no_update BEFORE UPDATE ON run_approval_grants
      BEGIN SELECT RAISE(ABORT, 'run approval grants are append-only'); END;
    CREATE TRIGGER run_approval_grants_no_delete BEFORE DELETE ON run_approval_grants
      BEGIN SELECT RAISE(ABORT, 'run approval grants are append-only'); END;
`,
    },
    {
      // Stored SBOMs and their components (api/sbom-rows.ts), indexed by component name.
      version: 4,
      sql: `
    CREATE TABLE sboms (
      digest TEXT PRIMARY KEY, kind TEXT NOT NULL, subject TEXT NOT NULL, version TEXT,
      subject_digest TEXT NOT NULL, document TEXT NOT NULL, created_at INTEGER NOT NULL);
    CREATE INDEX sboms_by_subject ON sboms (subject_digest);
    CREATE TABLE sbom_components (
      sbom_digest TEXT NOT NULL REFERENCES sboms (digest), full_name TEXT NOT NULL, name TEXT NOT NULL,
      grp TEXT, version TEXT NOT NULL, purl TEXT, type TEXT NOT NULL);
    CREATE INDEX sbom_components_by_full_name ON sbom_components (full_name);
    CREATE INDEX sbom_components_by_name ON sbom_components (name);
`,
    },
    {
      // The DAG layout of each stored plan (api/plan-layout.ts), read back across restarts.
      version: 5,
      sql: `
    CREATE TABLE plan_layouts (
      plan_digest TEXT NOT NULL, version INTEGER NOT NULL, layout TEXT NOT NULL,
      created_at INTEGER NOT NULL, PRIMARY KEY (plan_digest, version));
`,
    },
  ],
};

export function openSqliteApiStore(dataDir: string): ApiStore {
  ensurePrivateDir(dataDir);
  const file = join(dataDir, 'api.sqlite');
  // 0600: token hashes are not secrets, but who may do what is.
  ensurePrivateDatabaseFile(file);
  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
  migrateSqlite(db, file, sqliteApiSchema);
  const all = (sql: string, ...args: SQLInputValue[]) => db.prepare(sql).all(...args) as ApiRow[];
  const one = (sql: string, ...args: SQLInputValue[]) => db.prepare(sql).get(...args) as ApiRow | undefined;
  const run = (sql: string, ...args: SQLInputValue[]) => db.prepare(sql).run(...args);
  return {
    location: file,
    async putWorkflow(w) {
      const result = run(
        `INSERT INTO workflows (digest, name, namespace, kind, manifest, plan, source, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`,
        ...workflowValues(w),
      );
      return { created: result.changes === 1 };
    },
    getWorkflow: async (digest) => toWorkflow(one('SELECT * FROM workflows WHERE digest = ?', digest)),
    latestWorkflow: async (namespace, name) =>
      toWorkflow(
        one(
          'SELECT * FROM workflows WHERE namespace = ? AND name = ? ORDER BY seq DESC LIMIT 1',
          namespace,
          name,
        ),
      ),
    async listWorkflows(q) {
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
    async putPlanLayout(l) {
      run(
        `INSERT INTO plan_layouts (plan_digest, version, layout, created_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (plan_digest, version) DO NOTHING`,
        l.planDigest,
        l.version,
        l.layout,
        l.createdAt,
      );
    },
    getPlanLayout: async (planDigest, version) =>
      toPlanLayout(
        one('SELECT * FROM plan_layouts WHERE plan_digest = ? AND version = ?', planDigest, version),
      ),
    async putToken(t) {
      run(
        `INSERT INTO tokens (id, name, hash, scopes, user, namespaces, created_at, expires_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ...tokenValues(t),
      );
    },
    tokenByHash: async (hash) => toToken(one('SELECT * FROM tokens WHERE hash = ?', hash)),
    listTokens: async () => all('SELECT * FROM tokens ORDER BY created_at, id').map((row) => toToken(row)!),
    revokeToken: async (id, now) =>
      run('UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', now, id).changes === 1,
    async claimIdempotencyKey(key, tokenId, bodyDigest, runId, now) {
      run(
        `INSERT INTO idempotency_keys (key, token_id, body_digest, run_id, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key, token_id) DO NOTHING`,
        key,
        tokenId,
        bodyDigest,
        runId,
        now,
      );
      const row = one('SELECT * FROM idempotency_keys WHERE key = ? AND token_id = ?', key, tokenId)!;
      return { runId: String(row.run_id), bodyDigest: String(row.body_digest), fresh: row.run_id === runId };
    },
    async releaseIdempotencyKey(key, tokenId) {
      run('DELETE FROM idempotency_keys WHERE key = ? AND token_id = ?', key, tokenId);
    },
    async putSession(session, now) {
      run('DELETE FROM sessions WHERE expires_at <= ?', now);
      run(
        'INSERT INTO sessions (hash, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?)',
        session.hash,
        session.tokenHash,
        session.createdAt,
        session.expiresAt,
      );
    },
    sessionByHash: async (hash) => toSession(one('SELECT * FROM sessions WHERE hash = ?', hash)),
    deleteSession: async (hash) => run('DELETE FROM sessions WHERE hash = ?', hash).changes === 1,
    async putApproval(a) {
      const key = a.approver.toLowerCase();
      const { changes } = run(
        `INSERT INTO run_approvals (run_id, approver_key, approver, digest, bundle, approved_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, approver_key) DO NOTHING`,
        ...approvalValues(a),
      );
      const row = one('SELECT * FROM run_approvals WHERE run_id = ? AND approver_key = ?', a.runId, key)!;
      return { created: changes === 1, approval: toApproval(row) };
    },
    listApprovals: async (runId) =>
      all('SELECT * FROM run_approvals WHERE run_id = ? ORDER BY approved_at, approver_key', runId).map(
        toApproval,
      ),
    async putGrant(g) {
      run(
        `INSERT INTO run_approval_grants (run_id, digest, bundle, granted_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (run_id) DO NOTHING`,
        g.runId,
        g.digest,
        JSON.stringify(g.bundle),
        g.grantedAt,
      );
      return toGrant(one('SELECT * FROM run_approval_grants WHERE run_id = ?', g.runId))!;
    },
    getGrant: async (runId) => toGrant(one('SELECT * FROM run_approval_grants WHERE run_id = ?', runId)),
    async putSbom(sbom, components) {
      // One transaction: a query never sees an SBOM without its components.
      db.exec('BEGIN IMMEDIATE');
      try {
        const { changes } = run(
          `INSERT INTO sboms (${SBOM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING`,
          ...sbomValues(sbom),
        );
        if (changes === 1)
          for (const c of uniqueComponents(components))
            run(
              `INSERT INTO sbom_components (${COMPONENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
              ...componentValues(sbom.digest, c),
            );
        db.exec('COMMIT');
        return { created: changes === 1 };
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    },
    findSbomComponents: async (name) =>
      all(
        `${MATCH_SELECT} WHERE c.full_name = ? OR c.name = ? ORDER BY s.created_at DESC, s.digest, c.version`,
        name,
        name,
      ).map(toMatch),
    async getSbom(lookup) {
      const { sql, args } = sbomWhere(lookup);
      return toSbom(one(`SELECT * FROM sboms WHERE ${sql} ORDER BY created_at DESC LIMIT 1`, ...args));
    },
    close: async () => db.close(),
  };
}
