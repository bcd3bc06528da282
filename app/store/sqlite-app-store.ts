/**
 * The App's store on SQLite (`<data-dir>/github-app.sqlite`, beside ingress's deliveries table),
 * for one App process. node:sqlite is synchronous: each method runs at once and returns a
 * settled promise. Idempotent writes are single statements (INSERT OR IGNORE on the primary
 * key), never a read and then a write.
 */
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ensurePrivateDatabaseFile, ensurePrivateDir } from '../../core/index.ts';
import { openScheduleStore, type ScheduleStore } from '../../engine/index.ts';
import { PENDING_CREATE, type AppStore } from '../app-store.ts';
import {
  ATTESTATION_COLUMNS,
  attestationValues,
  RUN_COLUMNS,
  runValues,
  toAttestation,
  toDispatch,
  toRun,
} from './app-rows.ts';
import { migrateComponent, type SqliteMigration } from './sqlite-migrations.ts';

const migrations: readonly SqliteMigration[] = [
  {
    // The tables as they were before they were versioned: a data dir made by an older build has
    // them (perhaps without the runs' later columns), so every statement is idempotent.
    version: 1,
    apply: (db) => {
      db.exec(`
        CREATE TABLE IF NOT EXISTS check_runs (external_id TEXT PRIMARY KEY, check_run_id INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS plan_digests (
          repo TEXT NOT NULL, sha TEXT NOT NULL, digests TEXT NOT NULL, PRIMARY KEY (repo, sha));
        CREATE TABLE IF NOT EXISTS runs (
          run_id TEXT PRIMARY KEY, repo TEXT NOT NULL, installation_id INTEGER NOT NULL,
          workflow TEXT NOT NULL, head_sha TEXT NOT NULL, external_id TEXT NOT NULL, from_fork INTEGER NOT NULL,
          pull_request INTEGER, gated INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE IF NOT EXISTS approval_attestations (
          digest TEXT PRIMARY KEY, repo TEXT NOT NULL, workflow TEXT NOT NULL, plan_digest TEXT NOT NULL,
          pull_request INTEGER NOT NULL, head_sha TEXT NOT NULL, base_sha TEXT NOT NULL,
          bundle TEXT NOT NULL, approvers TEXT NOT NULL, issued_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL, supersedes TEXT, revoked_at INTEGER, revoked_reason TEXT);
        CREATE INDEX IF NOT EXISTS approval_attestations_head
          ON approval_attestations (repo, workflow, head_sha, pull_request);
        CREATE INDEX IF NOT EXISTS approval_attestations_pull ON approval_attestations (repo, pull_request);
        CREATE TABLE IF NOT EXISTS pushers (
          repo TEXT NOT NULL, sha TEXT NOT NULL, login TEXT NOT NULL, PRIMARY KEY (repo, sha, login));
        CREATE TABLE IF NOT EXISTS dispatches (
          key TEXT NOT NULL, workflow TEXT NOT NULL, run_id TEXT NOT NULL, created_at INTEGER NOT NULL,
          PRIMARY KEY (key, workflow));
      `);
      // SQLite has no ADD COLUMN IF NOT EXISTS.
      for (const column of ['pull_request INTEGER', 'gated INTEGER NOT NULL DEFAULT 0'])
        if (
          !db.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get('runs', column.split(' ')[0]!)
        )
          db.exec(`ALTER TABLE runs ADD COLUMN ${column}`);
    },
  },
  {
    // Attestations are revoked, never deleted; a revocation is never undone and nothing else of
    // one changes, even by direct SQL (PostgreSQL's app_attestations_guard says the same).
    version: 2,
    apply: (db) =>
      db.exec(`
        CREATE TRIGGER approval_attestations_never_deleted BEFORE DELETE ON approval_attestations
        BEGIN SELECT RAISE(ABORT, 'approval attestations are revoked, never deleted'); END;
        CREATE TRIGGER approval_attestations_only_revoked BEFORE UPDATE ON approval_attestations
        WHEN OLD.revoked_at IS NOT NULL
          OR NEW.digest IS NOT OLD.digest OR NEW.repo IS NOT OLD.repo OR NEW.workflow IS NOT OLD.workflow
          OR NEW.plan_digest IS NOT OLD.plan_digest OR NEW.pull_request IS NOT OLD.pull_request
          OR NEW.head_sha IS NOT OLD.head_sha OR NEW.base_sha IS NOT OLD.base_sha
          OR NEW.bundle IS NOT OLD.bundle OR NEW.approvers IS NOT OLD.approvers
          OR NEW.issued_at IS NOT OLD.issued_at OR NEW.expires_at IS NOT OLD.expires_at
          OR NEW.supersedes IS NOT OLD.supersedes
        BEGIN SELECT RAISE(ABORT, 'an approval attestation only gains its revocation'); END;
      `),
  },
];

export const APP_SQLITE_SCHEMA_VERSION = migrations.at(-1)!.version;

export interface SqliteAppStoreOptions {
  /** The schedules' store when it lives elsewhere; default: the tables in this file. Closed with this store. */
  schedules?: ScheduleStore & { close(): Promise<void> };
}

export function openSqliteAppStore(dataDir: string, options: SqliteAppStoreOptions = {}): AppStore {
  // 0700 and 0600: attestations gate what runs.
  ensurePrivateDir(dataDir);
  const file = join(dataDir, 'github-app.sqlite');
  ensurePrivateDatabaseFile(file);
  const db = new DatabaseSync(file, { timeout: 5000 });
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
  migrateComponent(db, file, 'app', migrations);
  const q = {
    checkRun: db.prepare('SELECT check_run_id FROM check_runs WHERE external_id = ?'),
    claimCheckRun: db.prepare('INSERT OR IGNORE INTO check_runs (external_id, check_run_id) VALUES (?, ?)'),
    putCheckRun: db.prepare('INSERT OR REPLACE INTO check_runs (external_id, check_run_id) VALUES (?, ?)'),
    putDigests: db.prepare('INSERT OR REPLACE INTO plan_digests (repo, sha, digests) VALUES (?, ?, ?)'),
    digests: db.prepare('SELECT digests FROM plan_digests WHERE repo = ? AND sha = ?'),
    putRun: db.prepare(`INSERT OR REPLACE INTO runs (${RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    run: db.prepare('SELECT * FROM runs WHERE run_id = ?'),
    dispatch: db.prepare('SELECT * FROM dispatches WHERE key = ? AND workflow = ?'),
    putDispatch: db.prepare(
      'INSERT OR IGNORE INTO dispatches (key, workflow, run_id, created_at) VALUES (?, ?, ?, ?)',
    ),
    putAttestation: db.prepare(
      `INSERT OR IGNORE INTO approval_attestations (${ATTESTATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    byHead: db.prepare(
      'SELECT * FROM approval_attestations WHERE repo = ? AND workflow = ? AND head_sha = ? ORDER BY issued_at DESC, rowid DESC',
    ),
    byDigest: db.prepare('SELECT * FROM approval_attestations WHERE digest = ?'),
    livePull: db.prepare(
      'SELECT * FROM approval_attestations WHERE repo = ? AND pull_request = ? AND revoked_at IS NULL ORDER BY rowid',
    ),
    revoke: db.prepare(
      'UPDATE approval_attestations SET revoked_at = ?, revoked_reason = ? WHERE digest = ? AND revoked_at IS NULL',
    ),
    putPusher: db.prepare('INSERT OR IGNORE INTO pushers (repo, sha, login) VALUES (?, ?, ?)'),
    pushers: db.prepare('SELECT login FROM pushers WHERE repo = ? AND sha = ? ORDER BY login'),
  };
  return {
    location: file,
    schedules: options.schedules ?? openScheduleStore(db),
    getCheckRunId: async (externalId) => {
      const row = q.checkRun.get(externalId);
      return row ? Number(row.check_run_id) : undefined;
    },
    claimCheckRunCreate: async (externalId) => q.claimCheckRun.run(externalId, PENDING_CREATE).changes === 1,
    putCheckRunId: async (externalId, id) => void q.putCheckRun.run(externalId, id),
    putPlanDigests: async (repo, sha, digests) => void q.putDigests.run(repo, sha, JSON.stringify(digests)),
    getPlanDigests: async (repo, sha) => {
      const row = q.digests.get(repo, sha);
      return row ? (JSON.parse(String(row.digests)) as Record<string, string>) : undefined;
    },
    putRun: async (r) => void q.putRun.run(...(runValues(r) as (string | number | null)[])),
    getRun: async (runId) => {
      const row = q.run.get(runId);
      return row ? toRun(row) : undefined;
    },
    getDispatch: async (key, workflow) => {
      const row = q.dispatch.get(key, workflow);
      return row ? toDispatch(row) : undefined;
    },
    putDispatch: async (d, run) => {
      db.exec('BEGIN IMMEDIATE');
      try {
        // The primary key lets one dispatch per (key, workflow) through; the run's record goes
        // with it only when it did.
        if (q.putDispatch.run(d.key, d.workflow, d.runId, d.createdAt).changes === 1)
          q.putRun.run(...(runValues(run) as (string | number | null)[]));
        const stored = toDispatch(q.dispatch.get(d.key, d.workflow)!);
        db.exec('COMMIT');
        return stored;
      } catch (error) {
        db.exec('ROLLBACK');
        throw error;
      }
    },
    // An attestation is written once: the same digest again never clears its revocation.
    putAttestation: async (a) =>
      void q.putAttestation.run(...(attestationValues(a) as (string | number | null)[])),
    findAttestation: async (query) =>
      q.byHead
        .all(query.repo, query.workflow, query.headSha)
        .map(toAttestation)
        .find((a) => query.pullRequest === undefined || a.pullRequest === query.pullRequest),
    getAttestation: async (digest) => {
      const row = q.byDigest.get(digest);
      return row ? toAttestation(row) : undefined;
    },
    liveAttestations: async (repo, pullRequest) => q.livePull.all(repo, pullRequest).map(toAttestation),
    revokeAttestation: async (digest, reason, at) => void q.revoke.run(at, reason, digest),
    putPusher: async (repo, sha, login) => void q.putPusher.run(repo, sha, login),
    pushersOf: async (repo, sha) => q.pushers.all(repo, sha).map((row) => String(row.login)),
    close: async () => {
      db.close();
      await options.schedules?.close();
    },
  };
}
