/**
 * The API store on PostgreSQL (MAESTRO_DATABASE_URL), so every server replica and
 * `maestro tokens` share one set of tokens, stored workflows and idempotency keys. Its tables are
 * prefixed `api_` (they live beside the engine's in one database) and migrated, forward only, by
 * the engine's one runner (`openPostgresPool`) under their own version table. Column names are
 * the SQLite store's, so api-rows.ts maps both.
 */
import {
  openPostgresPool,
  prepared,
  redactedUrl,
  retrying,
  transaction,
  type PostgresSchema,
  type Prepared,
} from '../engine/index.ts';
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

export const apiSchema: PostgresSchema = {
  table: 'api_schema_migrations',
  migrations: [
    {
      version: 1,
      sql: `
CREATE TABLE api_workflows (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  digest text NOT NULL UNIQUE,
  name text NOT NULL,
  namespace text NOT NULL,
  kind text NOT NULL,
  manifest text NOT NULL,
  plan json NOT NULL,
  source json,
  created_at bigint NOT NULL
);
CREATE INDEX api_workflows_by_name ON api_workflows (namespace, name, seq);
CREATE TABLE api_tokens (
  id text PRIMARY KEY,
  name text NOT NULL,
  hash text NOT NULL UNIQUE,
  scopes json NOT NULL,
  "user" text NOT NULL,
  namespaces json NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  revoked_at bigint
);
CREATE TABLE api_idempotency_keys (
  key text NOT NULL,
  token_id text NOT NULL,
  body_digest text NOT NULL,
  run_id text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (key, token_id)
);
`,
    },
    {
      // Console sessions: the SHA-256 of the cookie, and the hash of the token it acts with.
      version: 2,
      sql: `
CREATE TABLE api_sessions (
  hash text PRIMARY KEY,
  token_hash text NOT NULL,
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL
);
CREATE INDEX api_sessions_by_expiry ON api_sessions (expires_at);
`,
    },
    {
      // Approvals through the API and the grants that released runs: the runs' evidence, so
      // append-only in the database itself (an approval's row is never rewritten or removed).
      version: 3,
      sql: `
CREATE TABLE api_run_approvals (
  run_id text NOT NULL,
  approver_key text NOT NULL,
  approver text NOT NULL,
  digest text NOT NULL,
  bundle json NOT NULL,
  approved_at bigint NOT NULL,
  PRIMARY KEY (run_id, approver_key)
);
CREATE TABLE api_run_approval_grants (
  run_id text PRIMARY KEY,
  digest text NOT NULL,
  bundle json NOT NULL,
  granted_at bigint NOT NULL
);
CREATE FUNCTION api_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER api_run_approvals_append_only BEFORE UPDATE OR DELETE ON api_run_approvals
  FOR EACH ROW EXECUTE FUNCTION api_append_only();
CREATE TRIGGER api_run_approval_grants_append_only BEFORE UPDATE OR DELETE ON api_run_approval_grants
  FOR EACH ROW EXECUTE FUNCTION api_append_only();
`,
    },
    {
      // Stored SBOMs and their components (api/sbom-rows.ts), indexed by component name. The
      // names are the SQLite store's (no api_ prefix in the join), so views give the shared SQL.
      version: 4,
      sql: `
CREATE TABLE api_sboms (
  digest text PRIMARY KEY,
  kind text NOT NULL,
  subject text NOT NULL,
  version text,
  subject_digest text NOT NULL,
  document text NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX api_sboms_by_subject ON api_sboms (subject_digest);
CREATE TABLE api_sbom_components (
  sbom_digest text NOT NULL REFERENCES api_sboms (digest),
  full_name text NOT NULL,
  name text NOT NULL,
  grp text,
  version text NOT NULL,
  purl text,
  type text NOT NULL
);
CREATE INDEX api_sbom_components_by_full_name ON api_sbom_components (full_name);
CREATE INDEX api_sbom_components_by_name ON api_sbom_components (name);
`,
    },
    {
      // The DAG layout of each stored plan (api/plan-layout.ts), read back across restarts.
      version: 5,
      sql: `
CREATE TABLE api_plan_layouts (
  plan_digest text NOT NULL,
  version integer NOT NULL,
  layout text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (plan_digest, version)
);
`,
    },
  ],
};

const PG_MATCH_SELECT = MATCH_SELECT.replace(
  'FROM sbom_components c JOIN sboms s',
  'FROM api_sbom_components c JOIN api_sboms s',
);

function sbomWhere(lookup: SbomLookup): { sql: string; args: string[] } {
  const where: string[] = [];
  const args: string[] = [];
  const add = (clause: (n: number) => string, value: string) => {
    args.push(value);
    where.push(clause(args.length));
  };
  if (lookup.digest !== undefined) add((n) => `digest = $${n}`, lookup.digest);
  if (lookup.subjectDigest !== undefined) add((n) => `subject_digest = $${n}`, lookup.subjectDigest);
  if (lookup.releaseVersion !== undefined)
    add((n) => `kind = 'release' AND version = $${n}`, lookup.releaseVersion);
  return { sql: where.length ? where.join(' AND ') : '1 = 0', args };
}

/** Connections: the API's queries are single statements; the engine's store has its own pool. */
const POOL_SIZE = 4;

// What every request reads (its token, its workflow, its idempotency key), prepared once per
// connection (engine's prepared.ts) instead of parsed and planned on every call.
const TOKEN_BY_HASH = prepared('SELECT * FROM api_tokens WHERE hash = $1');
const SESSION_BY_HASH = prepared('SELECT * FROM api_sessions WHERE hash = $1');
const WORKFLOW_BY_DIGEST = prepared('SELECT * FROM api_workflows WHERE digest = $1');
const LATEST_WORKFLOW = prepared(
  'SELECT * FROM api_workflows WHERE namespace = $1 AND name = $2 ORDER BY seq DESC LIMIT 1',
);
const PUT_IDEMPOTENCY_KEY = prepared(
  `INSERT INTO api_idempotency_keys (key, token_id, body_digest, run_id, created_at)
   VALUES ($1, $2, $3, $4, $5) ON CONFLICT (key, token_id) DO NOTHING`,
);
const IDEMPOTENCY_KEY = prepared('SELECT * FROM api_idempotency_keys WHERE key = $1 AND token_id = $2');

export async function openPostgresApiStore(url: string): Promise<ApiStore> {
  const pool = await openPostgresPool(url, { max: POOL_SIZE, schema: apiSchema });
  const db = retrying(pool);
  const all = async (sql: string | Prepared, args: unknown[] = []) =>
    (await db.query<ApiRow>(sql, args)).rows;
  const one = async (sql: string | Prepared, args: unknown[]) => (await all(sql, args))[0];
  return {
    location: redactedUrl(url),
    async putWorkflow(w) {
      const result = await db.query(
        `INSERT INTO api_workflows (digest, name, namespace, kind, manifest, plan, source, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (digest) DO NOTHING`,
        workflowValues(w),
      );
      return { created: result.rowCount === 1 };
    },
    getWorkflow: async (digest) => toWorkflow(await one(WORKFLOW_BY_DIGEST, [digest])),
    latestWorkflow: async (namespace, name) => toWorkflow(await one(LATEST_WORKFLOW, [namespace, name])),
    async listWorkflows(q) {
      const where: string[] = [];
      const args: unknown[] = [];
      const add = (clause: (n: number) => string, value: unknown) => {
        args.push(value);
        where.push(clause(args.length));
      };
      if (q.namespace !== undefined) add((n) => `namespace = $${n}`, q.namespace);
      if (q.name !== undefined) add((n) => `name = $${n}`, q.name);
      if (q.namespaces) add((n) => `namespace = ANY($${n}::text[])`, q.namespaces);
      if (q.beforeSeq !== undefined) add((n) => `seq < $${n}`, q.beforeSeq);
      args.push(q.limit);
      const sql = `SELECT * FROM api_workflows ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${args.length}`;
      return (await all(sql, args)).map((row) => toWorkflow(row)!);
    },
    async putToken(t) {
      await db.query(
        `INSERT INTO api_tokens (id, name, hash, scopes, "user", namespaces, created_at, expires_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        tokenValues(t),
      );
    },
    tokenByHash: async (hash) => toToken(await one(TOKEN_BY_HASH, [hash])),
    listTokens: async () =>
      (await all('SELECT * FROM api_tokens ORDER BY created_at, id')).map((row) => toToken(row)!),
    revokeToken: async (id, now) =>
      (
        await db.query('UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [
          now,
          id,
        ])
      ).rowCount === 1,
    async claimIdempotencyKey(key, tokenId, bodyDigest, runId, now) {
      // Two statements on purpose: at READ COMMITTED, an INSERT that met a concurrent claim waits
      // for it to commit and does nothing; the SELECT after it (a new snapshot) then sees that
      // claim. One statement (a CTE) would read with the snapshot from before the wait and miss it.
      await db.query(PUT_IDEMPOTENCY_KEY, [key, tokenId, bodyDigest, runId, now]);
      const row = (await one(IDEMPOTENCY_KEY, [key, tokenId]))!;
      return { runId: String(row.run_id), bodyDigest: String(row.body_digest), fresh: row.run_id === runId };
    },
    async releaseIdempotencyKey(key, tokenId) {
      await db.query('DELETE FROM api_idempotency_keys WHERE key = $1 AND token_id = $2', [key, tokenId]);
    },
    async putSession(session, now) {
      await db.query('DELETE FROM api_sessions WHERE expires_at <= $1', [now]);
      await db.query(
        'INSERT INTO api_sessions (hash, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)',
        [session.hash, session.tokenHash, session.createdAt, session.expiresAt],
      );
    },
    sessionByHash: async (hash) => toSession(await one(SESSION_BY_HASH, [hash])),
    deleteSession: async (hash) =>
      (await db.query('DELETE FROM api_sessions WHERE hash = $1', [hash])).rowCount === 1,
    async putApproval(a) {
      const { rowCount } = await db.query(
        `INSERT INTO api_run_approvals (run_id, approver_key, approver, digest, bundle, approved_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (run_id, approver_key) DO NOTHING`,
        approvalValues(a),
      );
      // A new statement, a new snapshot: sees the row a concurrent insert committed (see above).
      const row = (await one('SELECT * FROM api_run_approvals WHERE run_id = $1 AND approver_key = $2', [
        a.runId,
        a.approver.toLowerCase(),
      ]))!;
      return { created: rowCount === 1, approval: toApproval(row) };
    },
    listApprovals: async (runId) =>
      (
        await all('SELECT * FROM api_run_approvals WHERE run_id = $1 ORDER BY approved_at, approver_key', [
          runId,
        ])
      ).map(toApproval),
    async putGrant(g) {
      await db.query(
        `INSERT INTO api_run_approval_grants (run_id, digest, bundle, granted_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_id) DO NOTHING`,
        [g.runId, g.digest, JSON.stringify(g.bundle), g.grantedAt],
      );
      return toGrant(await one('SELECT * FROM api_run_approval_grants WHERE run_id = $1', [g.runId]))!;
    },
    async putPlanLayout(l) {
      await db.query(
        `INSERT INTO api_plan_layouts (plan_digest, version, layout, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (plan_digest, version) DO NOTHING`,
        [l.planDigest, l.version, l.layout, l.createdAt],
      );
    },
    getPlanLayout: async (planDigest, version) =>
      toPlanLayout(
        await one('SELECT * FROM api_plan_layouts WHERE plan_digest = $1 AND version = $2', [
          planDigest,
          version,
        ]),
      ),
    getGrant: async (runId) =>
      toGrant(await one('SELECT * FROM api_run_approval_grants WHERE run_id = $1', [runId])),
    putSbom: (sbom, components) =>
      // One transaction: a query never sees an SBOM without its components.
      transaction(pool, async (c) => {
        const inserted = await c.query(
          `INSERT INTO api_sboms (${SBOM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (digest) DO NOTHING`,
          sbomValues(sbom),
        );
        if (inserted.rowCount !== 1) return { created: false };
        const rows = uniqueComponents(components).map((x) => componentValues(sbom.digest, x));
        const column = (i: number) => rows.map((r) => r[i]);
        await c.query(
          `INSERT INTO api_sbom_components (${COMPONENT_COLUMNS})
           SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])`,
          [0, 1, 2, 3, 4, 5, 6].map(column),
        );
        return { created: true };
      }),
    findSbomComponents: async (name) =>
      (
        await all(
          `${PG_MATCH_SELECT} WHERE c.full_name = $1 OR c.name = $1 ORDER BY s.created_at DESC, s.digest, c.version`,
          [name],
        )
      ).map(toMatch),
    async getSbom(lookup) {
      const { sql, args } = sbomWhere(lookup);
      return toSbom(await one(`SELECT * FROM api_sboms WHERE ${sql} ORDER BY created_at DESC LIMIT 1`, args));
    },
    close: () => pool.end(),
  };
}
