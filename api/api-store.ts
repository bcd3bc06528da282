/**
 * The server's own durable state beside the engine's store: stored workflows (manifest and plan
 * by digest), API tokens (their SHA-256 only) and idempotency keys. One asynchronous port, two
 * implementations held to one contract (test/store-contract/api-store-contract.ts): SQLite in
 * `<data-dir>/api.sqlite` when MAESTRO_DATABASE_URL is unset, PostgreSQL when it names one, so
 * `maestro tokens create` and every server replica share the tokens without a server running.
 */
import type { ApiBody, Plan } from '../core/index.ts';
import type { SbomComponent } from '../provenance/index.ts';
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

/** A console session: only the SHA-256 of its cookie is stored, with the token it was made from. */
export interface StoredSession {
  hash: string;
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
}

/** One person's signed approval of a run (POST /v1/runs/{id}/approvals); never updated or deleted. */
export interface StoredApproval {
  runId: string;
  approver: string;
  /** The signed attestation's digest and bundle. */
  digest: string;
  bundle: unknown;
  approvedAt: number;
}

/** The signed grant that released a run once its approvals met the rule; one per run. */
export interface StoredGrant {
  runId: string;
  digest: string;
  bundle: unknown;
  grantedAt: number;
}

/**
 * A stored CycloneDX SBOM: of a Maestro release (`kind: release`, `version` its version,
 * `subjectDigest` the sha256 of the release's npm package) or of an image (`kind: image`,
 * `subject` its registry/repository, `subjectDigest` its manifest digest). Only SBOMs whose
 * signature was verified are stored (cli/commands/sbom.ts); rows are never rewritten.
 */
export interface StoredSbom {
  /** `sha256:` of the document's canonical JSON. */
  digest: string;
  kind: 'release' | 'image';
  subject: string;
  version: string | null;
  subjectDigest: string;
  document: string;
  createdAt: number;
}

export interface SbomMatch {
  sbom: Omit<StoredSbom, 'document'>;
  component: SbomComponent;
}

/** One of: the SBOM's own digest, the digest of what it describes, a release version. */
export interface SbomLookup {
  digest?: string;
  subjectDigest?: string;
  releaseVersion?: string;
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

/**
 * A plan's DAG layout (api/plan-layout.ts), kept with the stored workflow so a restarted server
 * or another replica reads it back instead of laying the plan out again. `version` is the
 * layout's options version: a changed layout makes old rows unread, never wrong.
 */
export interface StoredPlanLayout {
  planDigest: string;
  version: number;
  /** The layout as JSON (api/layout-worker.ts's LayoutAnswer). */
  layout: string;
  createdAt: number;
}

export interface IdempotencyClaim {
  runId: string;
  bodyDigest: string;
  /** True when this call recorded the key (its `runId` is the caller's). */
  fresh: boolean;
}

export interface ApiStore {
  /** Where it lives (a file, or a PostgreSQL URL without its password). */
  readonly location: string;
  /** Inserts unless the digest is there; says which. */
  putWorkflow(workflow: Omit<StoredWorkflow, 'seq'>): Promise<{ created: boolean }>;
  getWorkflow(digest: string): Promise<StoredWorkflow | undefined>;
  latestWorkflow(namespace: string, name: string): Promise<StoredWorkflow | undefined>;
  /** Newest first (seq descending). */
  listWorkflows(query: WorkflowQuery): Promise<StoredWorkflow[]>;
  /** Stores a plan's layout unless one of that plan and version is there. */
  putPlanLayout(layout: StoredPlanLayout): Promise<void>;
  getPlanLayout(planDigest: string, version: number): Promise<StoredPlanLayout | undefined>;
  /** Rejects when the id or the hash is taken. */
  putToken(token: StoredToken): Promise<void>;
  tokenByHash(hash: string): Promise<StoredToken | undefined>;
  /** Oldest first. */
  listTokens(): Promise<StoredToken[]>;
  /** False when no such token (or already revoked). */
  revokeToken(id: string, now: number): Promise<boolean>;
  /**
   * The run an idempotency key (per token) already made, or records `runId` for it. Atomic: of
   * two concurrent callers with one key, exactly one gets `fresh`, and both get the same run.
   */
  claimIdempotencyKey(
    key: string,
    tokenId: string,
    bodyDigest: string,
    runId: string,
    now: number,
  ): Promise<IdempotencyClaim>;
  releaseIdempotencyKey(key: string, tokenId: string): Promise<void>;
  /** Stores a session, dropping every expired one. */
  putSession(session: StoredSession, now: number): Promise<void>;
  sessionByHash(hash: string): Promise<StoredSession | undefined>;
  /** False when no such session. */
  deleteSession(hash: string): Promise<boolean>;
  /**
   * Stores the approval unless this approver's (case-insensitive) is there; returns the stored
   * one, so the same approver twice counts once. Append-only, in the database itself.
   */
  putApproval(approval: StoredApproval): Promise<{ created: boolean; approval: StoredApproval }>;
  /** A run's approvals, oldest first. */
  listApprovals(runId: string): Promise<StoredApproval[]>;
  /** Stores the grant unless the run has one (the first stored wins); returns the stored one. */
  putGrant(grant: StoredGrant): Promise<StoredGrant>;
  getGrant(runId: string): Promise<StoredGrant | undefined>;
  /** Stores an SBOM and its components unless its digest is there; says which. */
  putSbom(sbom: StoredSbom, components: SbomComponent[]): Promise<{ created: boolean }>;
  /** Every stored component named `name` (`group/name` or the bare name), newest SBOM first. */
  findSbomComponents(name: string): Promise<SbomMatch[]>;
  /** The newest SBOM matching the lookup. */
  getSbom(lookup: SbomLookup): Promise<StoredSbom | undefined>;
  close(): Promise<void>;
}
