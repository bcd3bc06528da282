/**
 * The policy seam: the engine asks a PolicyGate before every task attempt. Implementations must
 * fail closed: if they cannot decide (no bundle, corrupt bundle, evaluation error, timeout,
 * undefined result) they return `allow: false` with the reason `policy unavailable`, and if the
 * decision cannot be recorded they must throw, so the task does not run.
 */
import type { PolicyInput } from '../generated/policy-input.ts';

// The input document's type is generated from schemas/policy-input.schema.json, which the PDP also
// validates every input against: one definition, so the engine and the Rego cannot drift apart.
export type { PolicyInput } from '../generated/policy-input.ts';
export type PolicyTaskInput = PolicyInput['task'];

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
  /**
   * The policy's egress allow-list (exact hosts, `*.example.com` for subdomains), handed to the
   * task as MAESTRO_EGRESS_ALLOWED_HOSTS so requests it makes beyond its declared targets (the
   * http task's redirects) are checked against the same list. Absent: the task allows only the
   * hosts policy approved.
   */
  egressAllowedHosts?: string[];
}

export interface PolicyGate {
  decide(input: PolicyInput, correlation: PolicyCorrelation): Promise<PolicyDecision>;
}

/**
 * Policy turned off on purpose (`policy: off`, `MAESTRO_POLICY=off`, `--policy off`). There is no
 * default: an engine is built with a gate or with this value, never with nothing, so forgetting
 * to wire a gate cannot silently allow everything. The run's log, its check run and its receipts
 * say policy was off, and where it was turned off (`source`).
 */
export interface PolicyOff {
  readonly off: true;
  /** Who or what turned it off, e.g. `MAESTRO_POLICY=off` or `--policy off`. */
  readonly source: string;
}

/** What an engine is given: a gate that decides, or the explicit `off`. */
export type PolicyChoice = PolicyGate | PolicyOff;

export function policyOff(source: string): PolicyOff {
  return Object.freeze({ off: true as const, source });
}

export function isPolicyOff(choice: PolicyChoice | undefined): choice is PolicyOff {
  return typeof choice === 'object' && choice !== null && (choice as Partial<PolicyOff>).off === true;
}
