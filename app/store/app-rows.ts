/**
 * Rows of the App's tables to values and back, for both stores: the column names are the same
 * on SQLite and PostgreSQL (whose int8 columns come back as strings and booleans as booleans,
 * hence Number() and the 1/true checks).
 */
import type { StoredAttestation, StoredDispatch, StoredRun } from '../app-store.ts';

export type Row = Record<string, unknown>;

export function attestationValues(a: StoredAttestation): unknown[] {
  return [
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
  ];
}

export const ATTESTATION_COLUMNS =
  'digest, repo, workflow, plan_digest, pull_request, head_sha, base_sha, bundle, approvers, issued_at, expires_at, supersedes, revoked_at, revoked_reason';

export function toAttestation(row: Row): StoredAttestation {
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

export const RUN_COLUMNS =
  'run_id, repo, installation_id, workflow, head_sha, external_id, from_fork, pull_request, gated';

export function runValues(r: StoredRun): unknown[] {
  return [
    r.runId,
    r.repo,
    r.installationId,
    r.workflow,
    r.headSha,
    r.checkRunExternalId,
    r.fromFork ? 1 : 0,
    r.pullRequest ?? null,
    r.gated ? 1 : 0,
  ];
}

export function toRun(row: Row): StoredRun {
  return {
    runId: String(row.run_id),
    repo: String(row.repo),
    installationId: Number(row.installation_id),
    workflow: String(row.workflow),
    headSha: String(row.head_sha),
    checkRunExternalId: String(row.external_id),
    fromFork: Number(row.from_fork) === 1,
    ...(row.pull_request !== null && row.pull_request !== undefined
      ? { pullRequest: Number(row.pull_request) }
      : {}),
    gated: Number(row.gated) === 1,
  };
}

export function toDispatch(row: Row): StoredDispatch {
  return {
    key: String(row.key),
    workflow: String(row.workflow),
    runId: String(row.run_id),
    createdAt: Number(row.created_at),
  };
}
