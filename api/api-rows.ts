/**
 * Rows of the API store's tables as both stores return them: the same column names, numbers as
 * numbers (SQLite) or int8 strings (PostgreSQL), JSON as its text (both; open-pool.ts keeps
 * PostgreSQL's json as text), so one mapping serves both.
 */
import type { ApiBody, Plan } from '../core/index.ts';
import type {
  StoredApproval,
  StoredGrant,
  StoredPlanLayout,
  StoredSession,
  StoredToken,
  StoredWorkflow,
} from './api-store.ts';
import type { Scope } from './tokens.ts';

export type ApiRow = Record<string, unknown>;

export function toWorkflow(row: ApiRow | undefined): StoredWorkflow | undefined {
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

export function toToken(row: ApiRow | undefined): StoredToken | undefined {
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

/** The values of a workflow row, in the column order both stores insert. */
export function workflowValues(w: Omit<StoredWorkflow, 'seq'>): (string | number | null)[] {
  return [
    w.digest,
    w.name,
    w.namespace,
    w.kind,
    w.manifest,
    JSON.stringify(w.plan),
    w.source ? JSON.stringify(w.source) : null,
    w.createdAt,
  ];
}

/** The values of a token row, in the column order both stores insert. */
export function tokenValues(t: StoredToken): (string | number | null)[] {
  return [
    t.id,
    t.name,
    t.hash,
    JSON.stringify(t.scopes),
    t.user,
    JSON.stringify(t.namespaces),
    t.createdAt,
    t.expiresAt,
    t.revokedAt,
  ];
}

export function toSession(row: ApiRow | undefined): StoredSession | undefined {
  if (!row) return undefined;
  return {
    hash: String(row.hash),
    tokenHash: String(row.token_hash),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

export function toApproval(row: ApiRow): StoredApproval {
  return {
    runId: String(row.run_id),
    approver: String(row.approver),
    digest: String(row.digest),
    bundle: JSON.parse(String(row.bundle)) as unknown,
    approvedAt: Number(row.approved_at),
  };
}

export function toGrant(row: ApiRow | undefined): StoredGrant | undefined {
  if (!row) return undefined;
  return {
    runId: String(row.run_id),
    digest: String(row.digest),
    bundle: JSON.parse(String(row.bundle)) as unknown,
    grantedAt: Number(row.granted_at),
  };
}

export function toPlanLayout(row: ApiRow | undefined): StoredPlanLayout | undefined {
  if (!row) return undefined;
  return {
    planDigest: String(row.plan_digest),
    version: Number(row.version),
    layout: String(row.layout),
    createdAt: Number(row.created_at),
  };
}

/** `run_approvals`: run_id, approver_key (the approver in lower case), approver, digest, bundle, approved_at. */
export function approvalValues(a: StoredApproval): [string, string, string, string, string, number] {
  return [a.runId, a.approver.toLowerCase(), a.approver, a.digest, JSON.stringify(a.bundle), a.approvedAt];
}
