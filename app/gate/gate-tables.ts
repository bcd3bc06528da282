import type { DatabaseSync } from 'node:sqlite';

/**
 * An approval attestation the app issued. It binds repository, workflow, plan digest, head SHA,
 * pull request and base SHA (the signed predicate says the same; dispatch checks both), expires,
 * and is revoked (never deleted) when the pull request closes, its head moves to another plan,
 * or its approvals are withdrawn.
 */
export interface StoredAttestation {
  /** The attestation's own digest (its id). */
  digest: string;
  repo: string;
  workflow: string;
  planDigest: string;
  pullRequest: number;
  headSha: string;
  baseSha: string;
  bundle: unknown;
  approvers: string[];
  issuedAt: number;
  expiresAt: number;
  /** The attestation this one replaces (a rebase or merge that kept the plan digest). */
  supersedes?: string;
  revokedAt?: number;
  revokedReason?: string;
}

/** Which attestation a dispatch may use: the live one for this exact head (and pull request). */
export interface AttestationQuery {
  repo: string;
  workflow: string;
  headSha: string;
  pullRequest?: number;
}

export interface GateTables {
  putAttestation(attestation: StoredAttestation): void;
  /** The newest attestation for this head (and pull request), revoked or not; the caller judges it. */
  findAttestation(query: AttestationQuery): StoredAttestation | undefined;
  getAttestation(digest: string): StoredAttestation | undefined;
  /** Attestations of one pull request that are not revoked. */
  liveAttestations(repo: string, pullRequest: number): StoredAttestation[];
  revokeAttestation(digest: string, reason: string, at: number): void;
  /** Records that `login` pushed `sha` (from a push or synchronize event's sender). */
  putPusher(repo: string, sha: string, login: string): void;
  /** Everyone who pushed `sha`, as the events said; empty when no event was seen. */
  pushersOf(repo: string, sha: string): string[];
}

export function openGateTables(db: DatabaseSync): GateTables {
  db.exec(`
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
  `);
  const insert = db.prepare(
    'INSERT OR REPLACE INTO approval_attestations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const byHead = db.prepare(
    'SELECT * FROM approval_attestations WHERE repo = ? AND workflow = ? AND head_sha = ? ORDER BY issued_at DESC, rowid DESC',
  );
  const byDigest = db.prepare('SELECT * FROM approval_attestations WHERE digest = ?');
  const livePull = db.prepare(
    'SELECT * FROM approval_attestations WHERE repo = ? AND pull_request = ? AND revoked_at IS NULL ORDER BY rowid',
  );
  const revoke = db.prepare(
    'UPDATE approval_attestations SET revoked_at = ?, revoked_reason = ? WHERE digest = ? AND revoked_at IS NULL',
  );
  const insertPusher = db.prepare('INSERT OR IGNORE INTO pushers VALUES (?, ?, ?)');
  const selectPushers = db.prepare('SELECT login FROM pushers WHERE repo = ? AND sha = ? ORDER BY login');
  return {
    putAttestation: (a) =>
      void insert.run(
        a.digest,
        a.repo,
        a.workflow,
        a.planDigest,
        a.pullRequest,
        a.headSha,
        a.baseSha,
        JSON.stringify(a.bundle),
        JSON.stringify(a.approvers),
        a.issuedAt,
        a.expiresAt,
        a.supersedes ?? null,
        a.revokedAt ?? null,
        a.revokedReason ?? null,
      ),
    findAttestation: (q) =>
      byHead
        .all(q.repo, q.workflow, q.headSha)
        .map(rowToAttestation)
        .find((a) => q.pullRequest === undefined || a.pullRequest === q.pullRequest),
    getAttestation: (digest) => {
      const row = byDigest.get(digest);
      return row ? rowToAttestation(row) : undefined;
    },
    liveAttestations: (repo, pullRequest) => livePull.all(repo, pullRequest).map(rowToAttestation),
    revokeAttestation: (digest, reason, at) => void revoke.run(at, reason, digest),
    putPusher: (repo, sha, login) => void insertPusher.run(repo, sha, login),
    pushersOf: (repo, sha) => selectPushers.all(repo, sha).map((row) => String(row.login)),
  };
}

function rowToAttestation(row: Record<string, unknown>): StoredAttestation {
  return {
    digest: String(row.digest),
    repo: String(row.repo),
    workflow: String(row.workflow),
    planDigest: String(row.plan_digest),
    pullRequest: Number(row.pull_request),
    headSha: String(row.head_sha),
    baseSha: String(row.base_sha),
    bundle: JSON.parse(String(row.bundle)) as unknown,
    approvers: JSON.parse(String(row.approvers)) as string[],
    issuedAt: Number(row.issued_at),
    expiresAt: Number(row.expires_at),
    ...(row.supersedes ? { supersedes: String(row.supersedes) } : {}),
    ...(row.revoked_at !== null && row.revoked_at !== undefined ? { revokedAt: Number(row.revoked_at) } : {}),
    ...(row.revoked_reason ? { revokedReason: String(row.revoked_reason) } : {}),
  };
}
