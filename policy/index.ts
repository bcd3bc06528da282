// The public face of policy/: the OPA-backed PolicyGate, its decision point, bundles (read and
// build), and the append-only, hash-chained decision log.
export * from './errors.ts';
export {
  POLICY_ENTRYPOINT,
  bundleDigest,
  readPolicyBundle,
  readPolicyBundleFile,
  readDefaultBundle,
  defaultBundlePath,
  defaultPolicyDir,
  type PolicyBundle,
} from './bundle/read-bundle.ts';
export { findOpa, type FindOpaOptions } from './build/find-opa.ts';
export {
  buildPolicyBundle,
  testPolicy,
  type BuildPolicyOptions,
  type BuiltPolicy,
  type TestPolicyResult,
} from './build/build-bundle.ts';
export { createPdp, type Pdp, type PdpOptions, type PdpResult } from './pdp/create-pdp.ts';
export { GENESIS_HASH, hashEntry, type DecisionLogEntry, type DecisionRecord } from './decision-log/entry.ts';
export {
  openDecisionLog,
  parseReasons,
  type DecisionLog,
  type Through,
} from './decision-log/open-decision-log.ts';
export {
  verifyChain,
  TamperKind,
  type TamperFinding,
  type VerifyReport,
} from './decision-log/verify-chain.ts';
export { formatDecisionLog, parseDecisionLog } from './decision-log/export-log.ts';
export {
  createOpaPolicyGate,
  NO_BUNDLE,
  type OpaPolicyGate,
  type OpaPolicyGateOptions,
} from './gate/create-opa-policy-gate.ts';
export { policyInputFor, type PolicyInputOptions } from './input/policy-input-for.ts';
export { createWorkerPdp, type AsyncPdp } from './pdp/create-worker-pdp.ts';
// Who may approve and whether a rule is met: pure, shared by the App (pull-request reviews) and
// the REST API (approvals of one run).
export {
  countApprovals,
  isBot,
  latestVerdicts,
  NotCountedReason,
  type ApprovalFacts,
  type ApprovalResult,
  type ReviewFact,
} from './approvals/count-approvals.ts';
export {
  parseFromEntry,
  resolveAllowed,
  type FromEntry,
  type TeamMembers,
} from './approvals/allowed-reviewers.ts';
