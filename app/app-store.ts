import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ensurePrivateDatabaseFile, ensurePrivateDir } from '../core/index.ts';
import { openScheduleStore, type ScheduleStore } from '../engine/index.ts';
import { openDispatchTables, type DispatchTables } from './dispatch/dispatch-table.ts';
import { openGateTables, type GateTables } from './gate/gate-tables.ts';

export type { StoredAttestation, AttestationQuery } from './gate/gate-tables.ts';
export type { StoredDispatch } from './dispatch/dispatch-table.ts';

/** A run the app dispatched, so check-run buttons find it again. */
export interface StoredRun {
  runId: string;
  repo: string;
  installationId: number;
  workflow: string;
  headSha: string;
  checkRunExternalId: string;
  /** Ran fork code: retries and re-runs stay on the untrusted engine. */
  fromFork: boolean;
  /** The pull request it ran for (its approval, if gated, is bound to it). */
  pullRequest?: number;
  /** It needed an approval attestation: retries and re-runs need one again. */
  gated?: boolean;
}

/**
 * The app's own durable state (the port the handlers use): check-run ids by external_id,
 * approval attestations and pushers (gate/gate-tables.ts), dispatches (dispatch/dispatch-table.ts)
 * and dispatched runs. SQLite through node:sqlite, in the same file as the deliveries table,
 * which ingress owns (app/ingress/delivery-store.ts).
 */
export interface AppStore extends GateTables, DispatchTables {
  /** Schedule claims and watermarks (engine/schedules), in this same file. */
  readonly schedules: ScheduleStore;
  getCheckRunId(externalId: string): number | undefined;
  putCheckRunId(externalId: string, checkRunId: number): void;
  /** Plan digests by workflow key at a commit, recorded whenever a commit's manifests compile. */
  putPlanDigests(repo: string, sha: string, digests: Record<string, string>): void;
  getPlanDigests(repo: string, sha: string): Record<string, string> | undefined;
  putRun(run: StoredRun): void;
  getRun(runId: string): StoredRun | undefined;
  close(): Promise<void>;
}

export interface OpenAppStoreOptions {
  /**
   * The schedules' store when it lives elsewhere (PostgreSQL, shared by replicas: app/runtime.ts
   * opens it for MAESTRO_DATABASE_URL); default: the tables in this file. Closed with this store.
   */
  schedules?: ScheduleStore & { close(): Promise<void> };
}

export function openAppStore(dataDir: string, options: OpenAppStoreOptions = {}): AppStore {
  // 0700 and 0600: deliveries hold payloads, attestations gate what runs.
  ensurePrivateDir(dataDir);
  ensurePrivateDatabaseFile(join(dataDir, 'github-app.sqlite'));
  const db = new DatabaseSync(join(dataDir, 'github-app.sqlite'));
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    PRAGMA busy_timeout = 5000;
    CREATE TABLE IF NOT EXISTS check_runs (external_id TEXT PRIMARY KEY, check_run_id INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS plan_digests (
      repo TEXT NOT NULL, sha TEXT NOT NULL, digests TEXT NOT NULL, PRIMARY KEY (repo, sha));
    CREATE TABLE IF NOT EXISTS runs (
      run_id TEXT PRIMARY KEY, repo TEXT NOT NULL, installation_id INTEGER NOT NULL,
      workflow TEXT NOT NULL, head_sha TEXT NOT NULL, external_id TEXT NOT NULL, from_fork INTEGER NOT NULL,
      pull_request INTEGER, gated INTEGER NOT NULL DEFAULT 0);
  `);
  // A store from before runs had these columns gains them (SQLite has no ADD COLUMN IF NOT EXISTS).
  for (const column of ['pull_request INTEGER', 'gated INTEGER NOT NULL DEFAULT 0'])
    if (!db.prepare('SELECT 1 FROM pragma_table_info(?) WHERE name = ?').get('runs', column.split(' ')[0]!))
      db.exec(`ALTER TABLE runs ADD COLUMN ${column}`);
  const gate = openGateTables(db);
  const dispatch = openDispatchTables(db);
  const selectCheckRun = db.prepare('SELECT check_run_id FROM check_runs WHERE external_id = ?');
  const upsertCheckRun = db.prepare(
    'INSERT OR REPLACE INTO check_runs (external_id, check_run_id) VALUES (?, ?)',
  );
  const upsertDigests = db.prepare('INSERT OR REPLACE INTO plan_digests VALUES (?, ?, ?)');
  const selectDigests = db.prepare('SELECT digests FROM plan_digests WHERE repo = ? AND sha = ?');
  const upsertRun = db.prepare('INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const selectRun = db.prepare('SELECT * FROM runs WHERE run_id = ?');
  return {
    ...gate,
    ...dispatch,
    schedules: options.schedules ?? openScheduleStore(db),
    getCheckRunId: (externalId) => {
      const row = selectCheckRun.get(externalId);
      return row ? Number(row.check_run_id) : undefined;
    },
    putCheckRunId: (externalId, id) => void upsertCheckRun.run(externalId, id),
    putPlanDigests: (repo, sha, digests) => void upsertDigests.run(repo, sha, JSON.stringify(digests)),
    getPlanDigests: (repo, sha) => {
      const row = selectDigests.get(repo, sha);
      return row ? (JSON.parse(String(row.digests)) as Record<string, string>) : undefined;
    },
    putRun: (r) =>
      void upsertRun.run(
        r.runId,
        r.repo,
        r.installationId,
        r.workflow,
        r.headSha,
        r.checkRunExternalId,
        r.fromFork ? 1 : 0,
        r.pullRequest ?? null,
        r.gated ? 1 : 0,
      ),
    getRun: (runId) => {
      const row = selectRun.get(runId);
      if (!row) return undefined;
      return {
        runId: String(row.run_id),
        repo: String(row.repo),
        installationId: Number(row.installation_id),
        workflow: String(row.workflow),
        headSha: String(row.head_sha),
        checkRunExternalId: String(row.external_id),
        fromFork: Number(row.from_fork) === 1,
        ...(row.pull_request !== null ? { pullRequest: Number(row.pull_request) } : {}),
        gated: Number(row.gated) === 1,
      };
    },
    close: async () => {
      db.close();
      await options.schedules?.close();
    },
  };
}
