// Generated from schemas/api/api.schema.json by scripts/generate-types.ts. Do not edit.

/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "WorkflowRef".
 */
export type WorkflowRef =
  | string
  | {
      namespace: string;
      name: string;
    };
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "ReceiptList".
 */
export type ReceiptList = Receipt[];
export type RunbookTrigger = {
  [k: string]: unknown;
};

/**
 * Request and response bodies of the REST API (`maestro server`, /v1). The route table (api/route-table.ts) points at these definitions; the server validates requests with them and docs/reference/openapi.json is generated from them.
 */
export interface Api {
  [k: string]: unknown;
}
/**
 * An error (RFC 9457 problem details, `application/problem+json`) with a stable `code`.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "Problem".
 */
export interface Problem {
  type: string;
  title: string;
  status: number;
  /**
   * Stable, machine-readable; never matched on `detail`.
   */
  code: string;
  /**
   * What went wrong and where.
   */
  detail: string;
  /**
   * What a person can do about it.
   */
  hint?: string;
  /**
   * Each problem in the request, with where it is (a JSON pointer into the body, query or headers).
   */
  errors?: {
    pointer: string;
    message: string;
  }[];
  diagnostics?: Diagnostic[];
}
/**
 * One problem in a manifest, exactly as `maestro validate --format json` reports it.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "Diagnostic".
 */
export interface Diagnostic {
  code: string;
  severity: string;
  message: string;
  hint: string | null;
  pointer: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "SourceRef".
 */
export interface SourceRef {
  repo: string;
  sha: string;
}
/**
 * POST /v1/workflows with `Content-Type: application/json`.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "WorkflowCreate".
 */
export interface WorkflowCreate {
  /**
   * The manifest as YAML text, or as an object.
   */
  manifest: string | {};
  source?: SourceRef;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "WorkflowCreated".
 */
export interface WorkflowCreated {
  digest: string;
  name: string;
  namespace: string;
  diagnostics: Diagnostic[];
  /**
   * The compiled Plan (schemas/plan.schema.json), as the server compiled it.
   */
  plan: {};
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "WorkflowSummary".
 */
export interface WorkflowSummary {
  digest: string;
  name: string;
  namespace: string;
  kind: string;
  createdAt: string;
  source: SourceRef | null;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "WorkflowDetail".
 */
export interface WorkflowDetail {
  digest: string;
  name: string;
  namespace: string;
  kind: string;
  createdAt: string;
  source: SourceRef | null;
  /**
   * The manifest text as stored.
   */
  manifest: string;
  /**
   * The compiled Plan (schemas/plan.schema.json).
   */
  plan: {};
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "WorkflowList".
 */
export interface WorkflowList {
  items: WorkflowSummary[];
  nextCursor: string | null;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "WorkflowListQuery".
 */
export interface WorkflowListQuery {
  namespace?: string;
  name?: string;
  cursor?: string;
  limit?: number;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunCreate".
 */
export interface RunCreate {
  workflow: WorkflowRef;
  params?: {};
  priority?: number;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunAccepted".
 */
export interface RunAccepted {
  id: string;
  status: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunSummary".
 */
export interface RunSummary {
  id: string;
  workflow: string;
  namespace: string;
  planDigest: string;
  status: string;
  reason: string;
  priority: number;
  actor: string;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * What started the run: push, pull_request, schedule, manual, api, …
   */
  trigger: string;
  /**
   * The source commit the run's tasks ran on (null: no source).
   */
  commit: string | null;
}
/**
 * A run summary holding only the properties `fields` asked for (and `id`): the same properties as RunSummary.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunSummaryFields".
 */
export interface RunSummaryFields {
  id: string;
  workflow?: string;
  namespace?: string;
  planDigest?: string;
  status?: string;
  reason?: string;
  priority?: number;
  actor?: string;
  createdAt?: string;
  startedAt?: string | null;
  finishedAt?: string | null;
  /**
   * What started the run: push, pull_request, schedule, manual, api, …
   */
  trigger?: string;
  /**
   * The source commit the run's tasks ran on (null: no source).
   */
  commit?: string | null;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunList".
 */
export interface RunList {
  items: (RunSummary | RunSummaryFields)[];
  nextCursor: string | null;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunListQuery".
 */
export interface RunListQuery {
  /**
   * Comma-separated run states.
   */
  status?: string;
  workflow?: string;
  namespace?: string;
  /**
   * Only runs whose source is this exact commit: the full 40-hex git SHA (the run's `commit`), or a directory source's tree digest.
   */
  sha?: string;
  /**
   * Comma-separated RunSummary properties to answer with (`id` always comes too), to leave out what a caller does not need; without it every item is the whole summary.
   */
  fields?: string;
  /**
   * Comma-separated key=value pairs (at most 10) of the workflow's metadata.labels: a run is listed when its workflow has every one.
   */
  label?: string;
  since?: string;
  until?: string;
  cursor?: string;
  limit?: number;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "Attempt".
 */
export interface Attempt {
  attempt: number;
  status: string;
  outcome: string | null;
  exitCode: number | null;
  reason: string | null;
  startedAt: string;
  finishedAt: string | null;
  cacheHit: boolean;
  policyDecisionIds: string[];
  /**
   * What the attempt wrote to its outputs (secret values masked).
   */
  outputs: {
    [k: string]: string;
  };
  /**
   * Where its runner placed it, for runners that choose (the Kubernetes cluster by the operator's name, and the Kubernetes namespace); recorded before it started.
   */
  placement?: {
    cluster: string;
    namespace?: string;
  };
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "Task".
 */
export interface Task {
  id: string;
  state: string;
  reason: string;
  /**
   * The task's cache key, when it is cacheable.
   */
  cacheKey: string | null;
  attempts: Attempt[];
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "ReceiptDigest".
 */
export interface ReceiptDigest {
  /**
   * Null for the run's own receipt.
   */
  task: string | null;
  attempt: number;
  digest: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunDetail".
 */
export interface RunDetail {
  run: RunSummary;
  /**
   * The W3C trace id of the run's trace (the caller's traceparent it continues, or the trace the server started for it); search the tracing backend for it. Null: the run was started with tracing off and no traceparent.
   */
  traceId: string | null;
  /**
   * The run's parameters, as started.
   */
  params: {};
  source: RunSource | null;
  /**
   * Who asked to cancel the run, if anyone did.
   */
  cancelRequestedBy: string | null;
  tasks: Task[];
  receipts: ReceiptDigest[];
  /**
   * Approvals recorded for the run (an approval-gated workflow's), oldest first: each one signed by the server.
   */
  approvals: Approval[];
  /**
   * The approval attestation the run started on (the grant for a run approved through the API, the pull request's attestation for one from GitHub); the run's receipts cite it. Null: the run was not gated, or is still waiting.
   */
  approvalDigest: string | null;
}
/**
 * The code a run's tasks ran on (as `maestro runs show` prints it): a git repository at a commit, or a directory by its tree digest.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunSource".
 */
export interface RunSource {
  kind: 'git' | 'directory';
  repo: string;
  commit: string;
  ref?: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "Approval".
 */
export interface Approval {
  /**
   * The approving token's user.
   */
  approver: string;
  approvedAt: string;
  /**
   * The digest of the signed approval attestation.
   */
  digest: string;
  /**
   * The plan the approval binds (the run's).
   */
  planDigest: string;
  /**
   * The source commit it binds, when the run has a source.
   */
  sourceSha: string | null;
  /**
   * The signed Sigstore bundle (in-toto statement, predicate type https://summit-maestro.dev/attestations/run-approval/v1), verifiable with the server's approval public key.
   */
  bundle: {};
}
/**
 * The answer to an approval: the caller's approval (`approval`, the one recorded before when it was already there), every approval recorded for the run, and whether they meet the workflow's rule.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "ApprovalAnswer".
 */
export interface ApprovalAnswer {
  run: RunSummary;
  approval: Approval;
  /**
   * Every approval recorded for the run.
   */
  approvals: Approval[];
  /**
   * How many approvals the workflow's rule requires.
   */
  required: number;
  /**
   * Whether the approvals that count meet the rule (the run then leaves waiting_for_approval).
   */
  satisfied: boolean;
  /**
   * The grant attestation the run started on, once satisfied.
   */
  approvalDigest: string | null;
}
/**
 * The answer to an approval of an approval task (`uses: tasks/approval@1`): whether the caller's approval was recorded now (false: it was there already, the same reviewer counts once), the approvals that count, those that do not and why, and the task's state (succeeded once the count is met; the run is then queued again).
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "TaskApprovalAnswer".
 */
export interface TaskApprovalAnswer {
  run: RunSummary;
  task: string;
  /**
   * The task's state after this approval.
   */
  state: string;
  recorded: boolean;
  required: number;
  satisfied: boolean;
  /**
   * Its timeout passed with onTimeout: escalate, so escalateTo may approve too.
   */
  escalated: boolean;
  approvals: {
    approver: string;
    /**
     * api (the API, the console) or github (a pull-request review).
     */
    via: string;
    approvedAt: string;
    /**
     * The signed task-approval attestation (predicate type https://summit-maestro.dev/attestations/task-approval/v1).
     */
    digest: string;
  }[];
  notCounted: {
    approver: string;
    reason: string;
  }[];
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunTaskParams".
 */
export interface RunTaskParams {
  id: string;
  taskId: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "Receipt".
 */
export interface Receipt {
  task: string | null;
  attempt: number;
  digest: string;
  /**
   * The signed Sigstore bundle.
   */
  bundle: {};
}
/**
 * What this server's receipts are signed with, for a verifier (the console, `maestro verify`): the public keys of a key signer, or, for keyless signing, no key but the identity its certificates name and the Sigstore trust root they chain to (`keyless`, when the operator set MAESTRO_KEYLESS_IDENTITY and MAESTRO_KEYLESS_ISSUER).
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "VerificationKeys".
 */
export interface VerificationKeys {
  /**
   * `none`: provenance is off, no receipt is signed.
   */
  signer: 'local-key' | 'development-key' | 'keyless' | 'none';
  keys: VerificationKey[];
  keyless?: KeylessIdentity;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "VerificationKey".
 */
export interface VerificationKey {
  /**
   * `sha256:<hex>` of the key's SubjectPublicKeyInfo DER: the hint in a receipt's verification material.
   */
  keyid: string;
  algorithm: 'ECDSA_P256_SHA256';
  /**
   * The SPKI public key, PEM.
   */
  publicKeyPem: string;
  jwk: {
    kty: 'EC';
    crv: 'P-256';
    x: string;
    y: string;
  };
  /**
   * The development key: receipts it signs are not for production trust.
   */
  development: boolean;
}
/**
 * A keyless signer's published identity: a receipt verifies when its Fulcio certificate chains to `trustedRoot`, carries a valid SCT, is in a transparency log of that root, and names this identity and issuer (as `maestro verify --certificate-identity … --certificate-oidc-issuer … --trusted-root …`).
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "KeylessIdentity".
 */
export interface KeylessIdentity {
  /**
   * The certificate's subject alternative name, e.g. a workflow `https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main`.
   */
  certificateIdentity: string;
  /**
   * The OIDC issuer, e.g. `https://token.actions.githubusercontent.com`.
   */
  certificateOidcIssuer: string;
  /**
   * A Sigstore `trusted_root.json` (media type application/vnd.dev.sigstore.trustedroot+json): Fulcio CA chains, Rekor and CT log keys.
   */
  trustedRoot: {};
  /**
   * `bundled`: Sigstore public good's root as shipped with the server's sigstore-js; `file`: the operator's MAESTRO_TRUSTED_ROOT.
   */
  trustedRootSource: 'bundled' | 'file';
}
/**
 * One policy decision about an attempt, from the policy gate's hash-chained decision log.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "PolicyDecision".
 */
export interface PolicyDecision {
  decisionId: string;
  time: string;
  task: string;
  attempt: number;
  allow: boolean;
  /**
   * The policy could not be evaluated (the decision then denies: fail closed).
   */
  unavailable: boolean;
  /**
   * Why the policy denied (empty when it allowed).
   */
  reasons: string[];
  /**
   * sha256 of the policy input the decision was made on.
   */
  inputDigest: string;
  /**
   * The policy bundle's digest.
   */
  bundleDigest: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "PolicyDecisionList".
 */
export interface PolicyDecisionList {
  items: PolicyDecision[];
}
/**
 * The run's plan as a laid-out graph (elkjs, layered, left to right), the same for every run of the plan and computed once per plan digest; with each task's duration estimate from the workflow's history.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunGraph".
 */
export interface RunGraph {
  planDigest: string;
  width: number;
  height: number;
  nodeWidth: number;
  nodeHeight: number;
  /**
   * Every task of the plan, in plan order (topological).
   */
  nodes: GraphNode[];
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "GraphNode".
 */
export interface GraphNode {
  id: string;
  /**
   * Left edge of the task's box.
   */
  x: number;
  /**
   * Top edge of the task's box.
   */
  y: number;
  needs: string[];
  /**
   * The median duration of the task's last succeeded attempts in the workflow's last finished runs (at most 10); null without history.
   */
  estimateMs: number | null;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RetryQuery".
 */
export interface RetryQuery {
  /**
   * Retry only this failed task (and the tasks skipped because of it); the other failures stay as they are.
   */
  task?: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "ReceiptQuery".
 */
export interface ReceiptQuery {
  task?: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunIdParams".
 */
export interface RunIdParams {
  id: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "DigestParams".
 */
export interface DigestParams {
  digest: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "Health".
 */
export interface Health {
  status: 'ok' | 'unready';
  reasons?: string[];
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "LogQuery".
 */
export interface LogQuery {
  /**
   * Only this task's lines.
   */
  task?: string;
  /**
   * Only this attempt's lines (with `task`).
   */
  attempt?: number;
  /**
   * Keep the stream open until the run finishes.
   */
  follow?: boolean;
}
/**
 * The data of one `log` event of GET /v1/runs/{id}/logs; the event's `id` is the line's id, for `Last-Event-ID`.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "LogEvent".
 */
export interface LogEvent {
  task: string | null;
  attempt: number | null;
  stream: string;
  text: string;
  time: string;
}
/**
 * The data of the final `end` event: the run is terminal and every line was sent.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "LogEnd".
 */
export interface LogEnd {
  status: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "WorkflowCreateQuery".
 */
export interface WorkflowCreateQuery {
  /**
   * Compile and answer the diagnostics without storing anything (what `maestro validate --server` sends).
   */
  dryRun?: boolean;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "TransitionQuery".
 */
export interface TransitionQuery {
  /**
   * Only the transitions after the first `after` ones (the `next` of the previous answer).
   */
  after?: number;
}
/**
 * One state change of the run (`task` null) or of one of its tasks, in the order they happened.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "Transition".
 */
export interface Transition {
  task: string | null;
  from: string | null;
  to: string;
  reason: string;
  by: string;
  time: string;
  detail: string | null;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "TransitionList".
 */
export interface TransitionList {
  items: Transition[];
  /**
   * Pass as `after` to get only the transitions that come later.
   */
  next: number;
}
/**
 * The session a token was exchanged for (POST /v1/session) or the one the cookie names (GET /v1/session): who it acts as, what it may do, and the CSRF token every state-changing request made with the cookie must send as `X-CSRF-Token`.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "Session".
 */
export interface Session {
  user: string;
  scopes: string[];
  /**
   * Empty: every namespace.
   */
  namespaces: string[];
  /**
   * The session ends then (at the latest when its token expires).
   */
  expiresAt: string;
  /**
   * Send as the X-CSRF-Token header on every POST or DELETE made with the session cookie.
   */
  csrfToken: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "SignedOut".
 */
export interface SignedOut {
  /**
   * True when a session was ended.
   */
  signedOut: boolean;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "EventQuery".
 */
export interface EventQuery {
  /**
   * Only this namespace's runs (default: every namespace the token may see).
   */
  namespace?: string;
}
/**
 * One state change of a run (`task` null, event `run`) or of one of its tasks (event `task`), as stored; the SSE id is its place in the store-wide order.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "StateEvent".
 */
export interface StateEvent {
  run: string;
  workflow: string;
  namespace: string;
  task: string | null;
  from: string | null;
  to: string;
  reason: string;
  by: string;
  time: string;
  detail: string | null;
}
/**
 * The first event of GET /v1/events: the stream's position (its SSE id); what changes after it follows.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "StreamReady".
 */
export interface StreamReady {
  after: number;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunbookParams".
 */
export interface RunbookParams {
  namespace: string;
  name: string;
}
export interface RunbookTrigger1 {
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
 * The runbook-trigger contract's TriggerResult, v3 (kept equal to it by api/runbook-schema.test.ts).
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "RunbookTriggered".
 */
export interface RunbookTriggered {
  runId: string;
  status: 'queued' | 'waiting_approval';
  /**
   * The decision log entry that allowed the trigger.
   */
  decisionId: string;
  correlationId?: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "BudgetParams".
 */
export interface BudgetParams {
  namespace: string;
}
/**
 * A namespace's budget and quotas, replacing what it had (`maestro budgets set`). `limit` null or absent: no money limit (quotas only).
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "BudgetSet".
 */
export interface BudgetSet {
  /**
   * The period's limit, in `currency`.
   */
  limit?: number | null;
  /**
   * ISO 4217; must be the price table's for the limit to be checked (else every task is refused).
   */
  currency: string;
  /**
   * A calendar period in UTC (weeks from Monday).
   */
  period: 'day' | 'week' | 'month';
  /**
   * The share of the limit past which tasks run with a warning (0.8 for 80%).
   */
  soft?: number | null;
  /**
   * Runs of the namespace executing at once; more wait queued, in order.
   */
  maxRuns?: number | null;
  /**
   * Attempts of the namespace running at once, across every worker; more tasks wait ready (reason quota_tasks), in the order they began to wait.
   */
  maxTasks?: number | null;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "Budget".
 */
export interface Budget {
  namespace: string;
  limit: number | null;
  currency: string;
  period: 'day' | 'week' | 'month';
  soft: number | null;
  maxRuns: number | null;
  maxTasks: number | null;
  updatedAt: string;
  updatedBy: string;
  /**
   * Where the current period began.
   */
  periodStart: string;
  /**
   * What the namespace's attempts started in the current period cost so far (price per hour × measured time; running ones up to now).
   */
  spent: number;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "BudgetListQuery".
 */
export interface BudgetListQuery {
  /**
   * Only this namespace's budget.
   */
  namespace?: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "BudgetList".
 */
export interface BudgetList {
  items: Budget[];
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "UsageQuery".
 */
export interface UsageQuery {
  namespace?: string;
  /**
   * Attempts started at or after (default: 30 days before `until`).
   */
  since?: string;
  /**
   * Attempts started before (default: now).
   */
  until?: string;
  groupBy?: 'namespace' | 'workflow' | 'task';
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "UsageRow".
 */
export interface UsageRow {
  namespace: string;
  /**
   * Null unless grouped by workflow or task.
   */
  workflow: string | null;
  /**
   * Null unless grouped by task.
   */
  task: string | null;
  /**
   * Runs with an attempt in the window.
   */
  runs: number;
  attempts: number;
  /**
   * Hours of measured attempt time (running ones up to now).
   */
  taskHours: number;
  /**
   * The budget guard's estimates, summed.
   */
  estimatedCost: number;
  /**
   * Price per hour × measured time, summed.
   */
  actualCost: number;
  /**
   * Price-aware placement's savings against on-demand (ADR-051), summed: each placed attempt's on-demand price when its task became ready minus its price, × its measured time; 0 for attempts not placed and for those that lost their spot capacity (spot_lost).
   */
  savings: number;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "UsageReport".
 */
export interface UsageReport {
  since: string;
  until: string;
  groupBy: 'namespace' | 'workflow' | 'task';
  /**
   * The price table's currency.
   */
  currency: string;
  items: UsageRow[];
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "SbomQuery".
 */
export interface SbomQuery {
  /**
   * A component name: `name`, or `group/name` (`@sigstore/sign`).
   */
  component: string;
  /**
   * A semver range (`^7.5`, `>=2.0.0 <3`); a version that is not semver is compared by its leading major.minor.patch.
   */
  version?: string;
}
/**
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "SbomMatch".
 */
export interface SbomMatch {
  kind: 'release' | 'image';
  /**
   * `summit-maestro` for a release; `registry/repository` for an image.
   */
  subject: string;
  /**
   * The release's version (releases only).
   */
  version?: string;
  /**
   * The image's manifest digest, or the sha256 of the release's npm package.
   */
  subjectDigest: string;
  /**
   * sha256 of the stored SBOM's canonical JSON.
   */
  sbomDigest: string;
  component: {
    name: string;
    group?: string;
    version: string;
    purl?: string;
    type: string;
  };
}
/**
 * Which stored releases and images contain the component (in the version range), newest SBOM first.
 *
 * This interface was referenced by `Api`'s JSON-Schema
 * via the `definition` "SbomMatches".
 */
export interface SbomMatches {
  items: SbomMatch[];
}
