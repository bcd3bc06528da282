/**
 * The policy seam: the engine asks a PolicyGate before every task attempt. Implementations must
 * fail closed: if they cannot decide (no bundle, corrupt bundle, evaluation error, timeout,
 * undefined result) they return `allow: false` with the reason `policy unavailable`, and if the
 * decision cannot be recorded they must throw, so the task does not run.
 */
import type { PolicyContext } from '../plan.ts';

export interface PolicyTaskInput {
  id: string;
  /** `shell`, `argv`, `catalog` or `container`. */
  kind: string;
  runner: string;
  resources: string;
  image?: string;
  /** Catalog task reference (`tasks/http@1.0.0`) when kind is `catalog`. */
  uses?: string;
  /** Hosts the task will contact, where known (HTTP-style tasks' URLs). */
  targetHosts: string[];
  /** Host networking / privileged flags requested by the task or its runner config. */
  privileged: boolean;
  hostNetwork: boolean;
}

export interface PolicyInput {
  task: PolicyTaskInput;
  /** `labels` (optional, added by the policy helper): metadata.labels, for sensitive-label rules. */
  workflow: { name: string; namespace: string; kind: string; labels?: Record<string, string> };
  planDigest: string;
  namespace: string;
  policy: PolicyContext;
  actor: string;
  /** Digest of the approval attestation for this plan, when one exists. */
  approvalDigest?: string;
}

export interface PolicyCorrelation {
  runId: string;
  taskId: string;
  attempt: number;
  deliveryId?: string;
}

export interface PolicyDecision {
  decisionId: string;
  allow: boolean;
  /** Human-readable reasons (for a deny: why; for `policy unavailable`: what failed). */
  reasons: string[];
  /** True when the deny comes from being unable to evaluate (fail closed). */
  unavailable: boolean;
  bundleDigest: string;
  inputDigest: string;
}

export interface PolicyGate {
  decide(input: PolicyInput, correlation: PolicyCorrelation): Promise<PolicyDecision>;
}
