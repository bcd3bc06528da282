import type { ScheduleStore } from '../engine/index.ts';

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
 * A dispatch: the run one trigger (a delivery, or one pull request head) started for one
 * workflow. It is written, with the run's id chosen in advance, before the engine is asked to
 * create the run, so reprocessing the same trigger after a crash (or on another replica)
 * resumes that run instead of submitting a second one.
 */
export interface StoredDispatch {
  key: string;
  workflow: string;
  runId: string;
  createdAt: number;
}

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

/** What the gate stores: attestations and who pushed which head. */
export interface GateTables {
  putAttestation(attestation: StoredAttestation): Promise<void>;
  /** The newest attestation for this head (and pull request), revoked or not; the caller judges it. */
  findAttestation(query: AttestationQuery): Promise<StoredAttestation | undefined>;
  getAttestation(digest: string): Promise<StoredAttestation | undefined>;
  /** Attestations of one pull request that are not revoked. */
  liveAttestations(repo: string, pullRequest: number): Promise<StoredAttestation[]>;
  /** Revokes once: a second revocation keeps the first reason and time. */
  revokeAttestation(digest: string, reason: string, at: number): Promise<void>;
  /** Records that `login` pushed `sha` (from a push or synchronize event's sender). */
  putPusher(repo: string, sha: string, login: string): Promise<void>;
  /** Everyone who pushed `sha`, as the events said; empty when no event was seen. */
  pushersOf(repo: string, sha: string): Promise<string[]>;
}

/** Check-run ids by external_id; a create is recorded (PENDING_CREATE) before it is sent. */
export interface CheckRunTables {
  getCheckRunId(externalId: string): Promise<number | undefined>;
  /**
   * Records `PENDING_CREATE` for an external_id nobody recorded yet, atomically (one INSERT
   * that a unique key lets through once): true for the one caller that may create the check run.
   */
  claimCheckRunCreate(externalId: string): Promise<boolean>;
  putCheckRunId(externalId: string, checkRunId: number): Promise<void>;
}

/** Recorded before a check run is created, replaced by its id once GitHub answered. */
export const PENDING_CREATE = -1;

/**
 * The app's own durable state (the port the handlers use): check-run ids by external_id,
 * approval attestations and pushers, dispatches and dispatched runs, plan digests by commit, and
 * the schedules' claims. Two implementations held to one contract
 * (test/store-contract/app-store-contract.ts): SQLite in `<data-dir>/github-app.sqlite`
 * (store/sqlite-app-store.ts) when MAESTRO_DATABASE_URL is unset, PostgreSQL
 * (store/postgres-app-store.ts) when it names one, so every App replica shares them.
 * The deliveries table is ingress's own port (ingress/delivery-store.ts).
 */
export interface AppStore extends GateTables, CheckRunTables {
  /** Where it lives (a file, or a PostgreSQL URL without its password). */
  readonly location: string;
  /** Schedule claims and watermarks (engine/schedules), in the same database. */
  readonly schedules: ScheduleStore;
  /** Plan digests by workflow key at a commit, recorded whenever a commit's manifests compile. */
  putPlanDigests(repo: string, sha: string, digests: Record<string, string>): Promise<void>;
  getPlanDigests(repo: string, sha: string): Promise<Record<string, string> | undefined>;
  getDispatch(key: string, workflow: string): Promise<StoredDispatch | undefined>;
  /**
   * Stores the dispatch and its run's record in one transaction, unless a dispatch for
   * (key, workflow) exists (written by anyone, on any replica): then nothing is written.
   * Returns the dispatch that is stored, the caller's or the earlier one.
   */
  putDispatch(dispatch: StoredDispatch, run: StoredRun): Promise<StoredDispatch>;
  putRun(run: StoredRun): Promise<void>;
  getRun(runId: string): Promise<StoredRun | undefined>;
  close(): Promise<void>;
}
