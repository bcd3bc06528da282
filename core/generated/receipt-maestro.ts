// Generated from schemas/receipt-maestro.schema.json by scripts/generate-types.ts. Do not edit.

/**
 * Maestro's part of a receipt's SLSA provenance v1 predicate, at predicate.buildDefinition.internalParameters.maestro. The control plane writes every field; a task contributes only its output and artifact digests (through outputsDigest and the statement's subjects).
 */
export type ReceiptMaestroFields = ReceiptAttemptFields | ReceiptRunFields;
export type Digest = string;

export interface ReceiptAttemptFields {
  kind: 'attempt';
  runId: string;
  taskId: string;
  attempt: number;
  attemptId: string;
  runner: string;
  definitionDigest: Digest;
  /**
   * The attempt's final state (a TaskState or the engine's attempt outcome: succeeded, failed, cancelled, timed_out, cached, runner_error, interrupted).
   */
  status: string;
  exitCode: number | null;
  /**
   * sha256 of the RFC 8785 canonical JSON of the attempt's outputs map.
   */
  outputsDigest: string;
  cache: {
    hit: boolean;
    key?: string;
  };
  policy: {
    decisionIds: string[];
    bundleDigest?: Digest;
    /**
     * Present (true) when policy was turned off on purpose (`policy: off`): no decision was asked before this attempt.
     */
    off?: true;
  };
  approvalDigest?: Digest;
  /**
   * What the attempt ran in, as its runner reported it: `sandbox` is `bwrap` (the local runner's bubblewrap sandbox), `container`, `pod`, or `none` (no sandbox: the operator's `sandbox: none`, or a GitHub Actions job VM, with `reason` saying which); `network` is `on` or `none`.
   */
  isolation?: {
    sandbox: 'bwrap' | 'container' | 'pod' | 'none';
    network: 'on' | 'none';
    reason?: string;
    /**
     * Present (true) when the task asked for host access (`hostAccess: true`) and ran on the host because the runners config grants it (`local.hostAccess: granted`).
     */
    hostAccess?: true;
  };
  /**
   * Present when an image policy checked the attempt's image (docs/supply-chain.md): the reference the task named, the manifest digest that ran (or was refused), the verdict (`verified`, `warned`: warn mode, ran unverified; `refused`: the attempt did not start), the signer that verified it, and the image decision's id in the decision log.
   */
  image?: {
    reference: string;
    digest?: Digest;
    verification: 'verified' | 'warned' | 'refused' | 'unchecked';
    signer?: string;
    decisionId?: string;
  };
  /**
   * Where the runner placed the attempt, for runners that choose among places: `cluster` is the operator's name for the Kubernetes cluster (a key of the runner's `clusters`, or `default`), `namespace` the Kubernetes namespace. Recorded with the attempt before it started.
   */
  placement?: {
    cluster: string;
    namespace?: string;
  };
  /**
   * What the attempt cost, in the price table's currency (docs/budgets.md): its runner and resource class's price per hour when it started, the budget guard's estimate (the task's p90 duration from its history, else its timeout, else one hour, at that price), and the actual cost (that price times the attempt's measured duration).
   */
  cost?: {
    currency: string;
    pricePerHour: number;
    estimated: number;
    actual: number;
  };
  /**
   * Present when this attempt ran because the previous one was lost to a crash of the engine or worker running it (not a retry under the task's policy): the interrupted attempt, what the engine recorded about it, and which re-attempt of the task (since its last user retry) this is.
   */
  reattemptOf?: {
    attempt: number;
    attemptId: string;
    interruptedBy: string;
    reattempt: number;
  };
}
export interface ReceiptRunFields {
  kind: 'run';
  runId: string;
  status: string;
  /**
   * Statement digests of the run's attempt receipts, by `taskId#attempt`.
   */
  attemptReceipts: {
    [k: string]: Digest;
  };
  /**
   * Present when policy was turned off on purpose (`policy: off`) for this run.
   */
  policy?: {
    off: true;
  };
  approvalDigest?: Digest;
}
