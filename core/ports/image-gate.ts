/**
 * The image gate: what a container or Kubernetes runner asks before it creates anything, when the
 * operator's configuration has an image policy (docs/supply-chain.md). It resolves the image's
 * tag to a digest, checks the signature the policy requires, records the decision, and answers
 * with the pinned reference the runner must run (the digest, never the tag) or a named refusal.
 */

export interface ImageCheckRequest {
  /** The image as the task names it (`registry/repo:tag` or `…@sha256:…`). */
  image: string;
  /** The run's namespace: policies are per namespace. */
  namespace: string;
  runId: string;
  taskId: string;
  attempt: number;
}

/** What the runner ran, for the attempt's result and receipt. */
export interface AttemptImage {
  /** The reference the task named. */
  reference: string;
  /** `sha256:<hex>` of the manifest that ran (or was refused). */
  digest?: string;
  /** `verified` (a trusted signature), `warned` (warn mode, not verified: ran anyway), `refused`,
   * `unchecked` (the namespace has no image policy). */
  verification: 'verified' | 'warned' | 'refused' | 'unchecked';
  /** Who signed it, when verified: a key fingerprint or a certificate identity. */
  signer?: string;
  /** The image-policy decision in the decision log. */
  decisionId?: string;
}

export type ImageCheck =
  | { allowed: true; pinned: string; image: AttemptImage; warning?: string }
  | {
      allowed: false;
      /** A closed set: ImageUnsigned, ImageSignatureInvalid, ImageSignerUntrusted, ImageDigestChanged,
       * ImageNotInPolicy, ImageNotFound, ImageReferenceInvalid, ImageRegistryUnavailable. */
      reason: string;
      message: string;
      retryable: boolean;
      image: AttemptImage;
    };

export interface ImageGate {
  /** Never throws: every failure is a refusal with its reason (fail closed). */
  check(request: ImageCheckRequest): Promise<ImageCheck>;
}

/** An image a task built and pushed, reported by its `image` message (docs/task-protocol.md). */
export interface BuiltImageReport {
  /** `registry/repository@sha256:…`: what was pushed, by digest. */
  image: string;
  namespace: string;
  runId: string;
  taskId: string;
  attempt: number;
}

/**
 * What the engine does with images its tasks built (docs/supply-chain.md, "SBOMs of images runs
 * build"): the runtime makes the image's SBOM, signs it onto the digest as a referrer and stores
 * it in the server's SBOM store. Resolves to what was stored; rejects naming why not.
 */
export interface BuiltImageRecorder {
  record(report: BuiltImageReport): Promise<{ sbomDigest: string; components: number }>;
}
