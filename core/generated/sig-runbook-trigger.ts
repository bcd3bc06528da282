// Generated from schemas/sig/runbook-trigger/v3/runbook-trigger.schema.json by scripts/generate-types.ts. Do not edit.

export type TriggerRequest = {
  [k: string]: unknown;
};

/**
 * Runbook trigger contract, version 3: SIG asks Maestro to run an allow-listed runbook (POST /v1/runbooks/{namespace}/{name}/trigger, a token with the runbooks:trigger scope). Maestro asks its policy decision point with the purpose, authority and license before the run is created.
 */
export interface SigRunbookTriggerV3 {
  [k: string]: unknown;
}
export interface TriggerRequest1 {
  /**
   * The contract version the body follows; absent means 1.
   */
  contractVersion?: 1 | 2 | 3;
  /**
   * @deprecated
   * Deprecated in v3: use correlationId. Still accepted and recorded as the correlationId.
   */
  requestId?: string;
  /**
   * Why the runbook is run (policy input).
   */
  purpose: string;
  /**
   * Who authorises it, for example `legal:ombuds`.
   */
  authority: string;
  /**
   * Under which license the data may be used.
   */
  license: string;
  /**
   * The runbook's params.
   */
  params?: {
    [k: string]: string | number | boolean;
  };
  /**
   * Why SIG triggers the runbook, for the decision log (added in v2).
   */
  reason?: string;
  /**
   * SIG's id of the request that caused the trigger (added in v3, replaces requestId).
   */
  correlationId?: string;
}
/**
 * This interface was referenced by `SigRunbookTriggerV3`'s JSON-Schema
 * via the `definition` "TriggerResult".
 */
export interface TriggerResult {
  runId: string;
  status: 'queued' | 'waiting_approval';
  /**
   * The decision log entry that allowed the trigger.
   */
  decisionId: string;
  correlationId?: string;
}
