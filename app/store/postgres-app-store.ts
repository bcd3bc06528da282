/**
 * The App's store on PostgreSQL (MAESTRO_DATABASE_URL), shared by every App replica: what one
 * replica recorded (a pusher, an attestation, a check run's id, a dispatch) the others read.
 * Every idempotent write is one `INSERT ... ON CONFLICT DO NOTHING` on a primary key, never a
 * read and then a write, so replicas racing on one key store one row; the read after it is a
 * new statement (a new snapshot at READ COMMITTED), so it sees the row a concurrent insert
 * committed while this one waited on it.
 */
import type pg from 'pg';
import {
  openPostgresPool,
  openPostgresScheduleStore,
  redactedUrl,
  retrying,
  transaction,
} from '../../engine/index.ts';
import { PENDING_CREATE, type AppStore } from '../app-store.ts';
import {
  ATTESTATION_COLUMNS,
  attestationValues,
  RUN_COLUMNS,
  runValues,
  toAttestation,
  toDispatch,
  toRun,
  type Row,
} from './app-rows.ts';
import { appSchema } from './postgres-app-schema.ts';

/** A handler's few statements at a time; the engine's store has its own pool. */
const POOL_SIZE = 4;

const params = (n: number) => Array.from({ length: n }, (_, i) => `$${i + 1}`).join(', ');
const INSERT_RUN = `INSERT INTO app_runs (${RUN_COLUMNS}) VALUES (${params(9)})
  ON CONFLICT (run_id) DO UPDATE SET repo = excluded.repo, installation_id = excluded.installation_id,
    workflow = excluded.workflow, head_sha = excluded.head_sha, external_id = excluded.external_id,
    from_fork = excluded.from_fork, pull_request = excluded.pull_request, gated = excluded.gated`;

export async function openPostgresAppStore(url: string): Promise<AppStore> {
  const pool: pg.Pool = await openPostgresPool(url, { max: POOL_SIZE, schema: appSchema });
  const schedules = await openPostgresScheduleStore(url).catch(async (error: unknown) => {
    await pool.end();
    throw error;
  });
  const db = retrying(pool);
  const all = async (sql: string, args: unknown[]) => (await db.query<Row>(sql, args)).rows;
  const one = async (sql: string, args: unknown[]) => (await all(sql, args))[0];
  const dispatchOf = async (key: string, workflow: string) => {
    const row = await one('SELECT * FROM app_dispatches WHERE key = $1 AND workflow = $2', [key, workflow]);
    return row ? toDispatch(row) : undefined;
  };
  return {
    location: redactedUrl(url),
    schedules,
    async getCheckRunId(externalId) {
      const row = await one('SELECT check_run_id FROM app_check_runs WHERE external_id = $1', [externalId]);
      return row ? Number(row.check_run_id) : undefined;
    },
    async claimCheckRunCreate(externalId) {
      const { rowCount } = await db.query(
        'INSERT INTO app_check_runs (external_id, check_run_id) VALUES ($1, $2) ON CONFLICT (external_id) DO NOTHING',
        [externalId, PENDING_CREATE],
      );
      return rowCount === 1;
    },
    async putCheckRunId(externalId, id) {
      await db.query(
        `INSERT INTO app_check_runs (external_id, check_run_id) VALUES ($1, $2)
         ON CONFLICT (external_id) DO UPDATE SET check_run_id = excluded.check_run_id`,
        [externalId, id],
      );
    },
    async putPlanDigests(repo, sha, digests) {
      await db.query(
        `INSERT INTO app_plan_digests (repo, sha, digests) VALUES ($1, $2, $3)
         ON CONFLICT (repo, sha) DO UPDATE SET digests = excluded.digests`,
        [repo, sha, JSON.stringify(digests)],
      );
    },
    async getPlanDigests(repo, sha) {
      const row = await one('SELECT digests FROM app_plan_digests WHERE repo = $1 AND sha = $2', [repo, sha]);
      return row ? (JSON.parse(String(row.digests)) as Record<string, string>) : undefined;
    },
    putRun: async (r) => void (await db.query(INSERT_RUN, runValues(r))),
    async getRun(runId) {
      const row = await one('SELECT * FROM app_runs WHERE run_id = $1', [runId]);
      return row ? toRun(row) : undefined;
    },
    getDispatch: dispatchOf,
    async putDispatch(d, run) {
      const inserted = await transaction(pool, async (c) => {
        const { rowCount } = await c.query(
          `INSERT INTO app_dispatches (key, workflow, run_id, created_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (key, workflow) DO NOTHING`,
          [d.key, d.workflow, d.runId, d.createdAt],
        );
        if (rowCount === 1) await c.query(INSERT_RUN, runValues(run));
        return rowCount === 1;
      });
      // Lost the race: the winner's row, committed before our INSERT gave up (a new snapshot).
      return inserted ? d : (await dispatchOf(d.key, d.workflow))!;
    },
    async putAttestation(a) {
      // Written once: the same digest again never clears a revocation.
      await db.query(
        `INSERT INTO app_approval_attestations (${ATTESTATION_COLUMNS}) VALUES (${params(14)})
         ON CONFLICT (digest) DO NOTHING`,
        attestationValues(a),
      );
    },
    async findAttestation(q) {
      const rows = await all(
        `SELECT * FROM app_approval_attestations WHERE repo = $1 AND workflow = $2 AND head_sha = $3
         ORDER BY issued_at DESC, seq DESC`,
        [q.repo, q.workflow, q.headSha],
      );
      return rows
        .map(toAttestation)
        .find((a) => q.pullRequest === undefined || a.pullRequest === q.pullRequest);
    },
    async getAttestation(digest) {
      const row = await one('SELECT * FROM app_approval_attestations WHERE digest = $1', [digest]);
      return row ? toAttestation(row) : undefined;
    },
    liveAttestations: async (repo, pullRequest) =>
      (
        await all(
          'SELECT * FROM app_approval_attestations WHERE repo = $1 AND pull_request = $2 AND revoked_at IS NULL ORDER BY seq',
          [repo, pullRequest],
        )
      ).map(toAttestation),
    async revokeAttestation(digest, reason, at) {
      await db.query(
        'UPDATE app_approval_attestations SET revoked_at = $1, revoked_reason = $2 WHERE digest = $3 AND revoked_at IS NULL',
        [at, reason, digest],
      );
    },
    async putPusher(repo, sha, login) {
      await db.query(
        'INSERT INTO app_pushers (repo, sha, login) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [repo, sha, login],
      );
    },
    pushersOf: async (repo, sha) =>
      (
        await all('SELECT login FROM app_pushers WHERE repo = $1 AND sha = $2 ORDER BY login', [repo, sha])
      ).map((row) => String(row.login)),
    async close() {
      await schedules.close();
      await pool.end();
    },
  };
}
