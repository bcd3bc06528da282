import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ensurePrivateDatabaseFile, ensurePrivateDir } from '../core/index.ts';

/** An approval attestation the app issued, keyed by the exact plan digest it covers. */
export interface StoredAttestation {
  repo: string;
  workflow: string;
  planDigest: string;
  digest: string;
  bundle: unknown;
  pullRequest: number;
  headSha: string;
  approvers: string[];
  issuedAt: number;
}

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
}

/**
 * The app's own durable state (the port the handlers use): check-run ids by external_id,
 * approval attestations, and dispatched runs. SQLite through node:sqlite, in the same file as
 * the deliveries table, which ingress owns (app/ingress/delivery-store.ts).
 */
export interface AppStore {
  getCheckRunId(externalId: string): number | undefined;
  putCheckRunId(externalId: string, checkRunId: number): void;
  putAttestation(attestation: StoredAttestation): void;
  findAttestation(repo: string, workflow: string, planDigest: string): StoredAttestation | undefined;
  /** Withdraws an attestation issued from this pull request (its gate is no longer satisfied). */
  revokeAttestation(repo: string, workflow: string, planDigest: string, pullRequest: number): boolean;
  /** Plan digests by workflow key at a commit, recorded whenever a commit's manifests compile. */
  putPlanDigests(repo: string, sha: string, digests: Record<string, string>): void;
  getPlanDigests(repo: string, sha: string): Record<string, string> | undefined;
  putRun(run: StoredRun): void;
  getRun(runId: string): StoredRun | undefined;
  close(): void;
}

export function openAppStore(dataDir: string): AppStore {
  // 0700 and 0600: deliveries hold payloads, attestations gate what runs.
  ensurePrivateDir(dataDir);
  ensurePrivateDatabaseFile(join(dataDir, 'github-app.sqlite'));
  const db = new DatabaseSync(join(dataDir, 'github-app.sqlite'));
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    PRAGMA busy_timeout = 5000;
    CREATE TABLE IF NOT EXISTS check_runs (external_id TEXT PRIMARY KEY, check_run_id INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS attestations (
      repo TEXT NOT NULL, workflow TEXT NOT NULL, plan_digest TEXT NOT NULL, digest TEXT NOT NULL,
      bundle TEXT NOT NULL, pull_request INTEGER NOT NULL, head_sha TEXT NOT NULL,
      approvers TEXT NOT NULL, issued_at INTEGER NOT NULL,
      PRIMARY KEY (repo, workflow, plan_digest));
    CREATE TABLE IF NOT EXISTS plan_digests (
      repo TEXT NOT NULL, sha TEXT NOT NULL, digests TEXT NOT NULL, PRIMARY KEY (repo, sha));
    CREATE TABLE IF NOT EXISTS runs (
      run_id TEXT PRIMARY KEY, repo TEXT NOT NULL, installation_id INTEGER NOT NULL,
      workflow TEXT NOT NULL, head_sha TEXT NOT NULL, external_id TEXT NOT NULL, from_fork INTEGER NOT NULL);
  `);
  const selectCheckRun = db.prepare('SELECT check_run_id FROM check_runs WHERE external_id = ?');
  const upsertCheckRun = db.prepare(
    'INSERT OR REPLACE INTO check_runs (external_id, check_run_id) VALUES (?, ?)',
  );
  const upsertAttestation = db.prepare(
    'INSERT OR REPLACE INTO attestations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const selectAttestation = db.prepare(
    'SELECT * FROM attestations WHERE repo = ? AND workflow = ? AND plan_digest = ?',
  );
  const upsertDigests = db.prepare('INSERT OR REPLACE INTO plan_digests VALUES (?, ?, ?)');
  const selectDigests = db.prepare('SELECT digests FROM plan_digests WHERE repo = ? AND sha = ?');
  const deleteAttestation = db.prepare(
    'DELETE FROM attestations WHERE repo = ? AND workflow = ? AND plan_digest = ? AND pull_request = ?',
  );
  const upsertRun = db.prepare('INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)');
  const selectRun = db.prepare('SELECT * FROM runs WHERE run_id = ?');
  return {
    getCheckRunId: (externalId) => {
      const row = selectCheckRun.get(externalId);
      return row ? Number(row.check_run_id) : undefined;
    },
    putCheckRunId: (externalId, id) => void upsertCheckRun.run(externalId, id),
    putAttestation: (a) =>
      void upsertAttestation.run(
        a.repo,
        a.workflow,
        a.planDigest,
        a.digest,
        JSON.stringify(a.bundle),
        a.pullRequest,
        a.headSha,
        JSON.stringify(a.approvers),
        a.issuedAt,
      ),
    findAttestation: (repo, workflow, planDigest) => {
      const row = selectAttestation.get(repo, workflow, planDigest);
      if (!row) return undefined;
      return {
        repo: String(row.repo),
        workflow: String(row.workflow),
        planDigest: String(row.plan_digest),
        digest: String(row.digest),
        bundle: JSON.parse(String(row.bundle)) as unknown,
        pullRequest: Number(row.pull_request),
        headSha: String(row.head_sha),
        approvers: JSON.parse(String(row.approvers)) as string[],
        issuedAt: Number(row.issued_at),
      };
    },
    revokeAttestation: (repo, workflow, planDigest, pullRequest) =>
      deleteAttestation.run(repo, workflow, planDigest, pullRequest).changes > 0,
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
      };
    },
    close: () => db.close(),
  };
}
