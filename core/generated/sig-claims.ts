// Generated from schemas/sig/claims/v3/claims.schema.json by scripts/generate-types.ts. Do not edit.

/**
 * An algorithm-prefixed digest, for example `sha256:` and 64 hex digits.
 *
 * This interface was referenced by `SigClaimsV3`'s JSON-Schema
 * via the `definition` "Digest".
 */
export type Digest = string;

/**
 * SIG claims and provenance contract, version 3: a claim about an artifact (named by digest), and the signed receipts that back it, linked by digest.
 */
export interface SigClaimsV3 {
  [k: string]: unknown;
}
/**
 * The artifact the claim is about.
 *
 * This interface was referenced by `SigClaimsV3`'s JSON-Schema
 * via the `definition` "Subject".
 */
export interface Subject {
  name: string;
  digest: Digest;
}
/**
 * This interface was referenced by `SigClaimsV3`'s JSON-Schema
 * via the `definition` "ClaimRequest".
 */
export interface ClaimRequest {
  /**
   * Registering again with the same key returns the claim made the first time.
   */
  idempotencyKey: string;
  subject: Subject;
  /**
   * What the claim asserts.
   */
  kind: 'build' | 'test' | 'disclosure' | 'attestation';
  /**
   * The claim itself, as the producer states it.
   */
  statement: {};
  /**
   * When the claim stops holding (added in v2).
   */
  expiresAt?: string;
  policy?: Policy;
}
/**
 * The policy the claim was made under (added in v3).
 *
 * This interface was referenced by `SigClaimsV3`'s JSON-Schema
 * via the `definition` "Policy".
 */
export interface Policy {
  purpose: string;
  authority: string;
  license: string;
}
/**
 * A Maestro receipt backing the claim: the digest of its signed bundle, and the run and task that produced it.
 *
 * This interface was referenced by `SigClaimsV3`'s JSON-Schema
 * via the `definition` "ReceiptLink".
 */
export interface ReceiptLink {
  digest: Digest;
  runId: string;
  taskId?: string;
  /**
   * @deprecated
   * Deprecated in v3: use location. Still accepted; SIG copies it into location.
   */
  uri?: string;
  /**
   * Where the receipt can be fetched (added in v3, replaces uri).
   */
  location?: string;
}
/**
 * This interface was referenced by `SigClaimsV3`'s JSON-Schema
 * via the `definition` "LinkRequest".
 */
export interface LinkRequest {
  /**
   * @minItems 1
   * @maxItems 100
   */
  receipts: [ReceiptLink, ...ReceiptLink[]];
}
/**
 * This interface was referenced by `SigClaimsV3`'s JSON-Schema
 * via the `definition` "Claim".
 */
export interface Claim {
  id: string;
  subject: Subject;
  kind: 'build' | 'test' | 'disclosure' | 'attestation';
  statement: {};
  createdAt: string;
  /**
   * Every receipt linked so far, each digest once, in the order first linked.
   */
  receipts: ReceiptLink[];
  /**
   * When the claim stops holding (added in v2).
   */
  expiresAt?: string;
  policy?: Policy;
}
