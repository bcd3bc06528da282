/**
 * Every route of the API in one table: its scope, its request schemas and its responses, each a
 * definition of schemas/api/api.schema.json. The server registers its routes from it and
 * openapi.ts generates the OpenAPI document from it, so the two cannot disagree, and the auth
 * sweep test walks every route in that document.
 */
import type { Scope } from './tokens.ts';

export interface RouteSpec {
  operationId: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Fastify's form (`/v1/runs/:id`). */
  url: string;
  summary: string;
  /** Null: no token needed (health only). */
  scope: Scope | null;
  /**
   * The route answers about every namespace at once (the metrics), so a token limited to
   * namespaces is refused (403 forbidden_namespace). Default: the route acts on one namespace.
   */
  allNamespaces?: true;
  /**
   * The route acts on no namespace (the session routes): a token limited to namespaces is let
   * through, as any other (the auth sweep checks that it is).
   */
  namespaceFree?: true;
  /** Definition names in api.schema.json. */
  params?: string;
  query?: string;
  /** Request body by media type. */
  body?: Record<string, string | { type: 'string'; description: string }>;
  /** Response definitions by status; `Problem` for errors. */
  responses: Record<number, string>;
  /** Responses that are not JSON, by status: their media type and a description. */
  rawResponses?: Record<number, { media: string; description: string }>;
}

const errors = (...statuses: number[]) => Object.fromEntries(statuses.map((s) => [s, 'Problem']));
const authErrors = errors(400, 401, 403);

export const ROUTES: readonly RouteSpec[] = [
  {
    operationId: 'healthz',
    method: 'GET',
    url: '/healthz',
    summary: 'The process is up',
    scope: null,
    responses: { 200: 'Health' },
  },
  {
    operationId: 'readyz',
    method: 'GET',
    url: '/readyz',
    summary: 'The store, the policy bundle and the signer are ready (503 with the reasons otherwise)',
    scope: null,
    responses: { 200: 'Health', ...errors(503) },
  },
  {
    operationId: 'createWorkflow',
    method: 'POST',
    url: '/v1/workflows',
    summary:
      'Compile and store a manifest (201 new, 200 already stored, 422 with its diagnostics; `dryRun=true` stores nothing)',
    scope: 'workflows:write',
    query: 'WorkflowCreateQuery',
    body: {
      'application/json': 'WorkflowCreate',
      'application/yaml': { type: 'string', description: 'The manifest itself.' },
    },
    responses: { 200: 'WorkflowCreated', 201: 'WorkflowCreated', ...authErrors, ...errors(413, 415, 422) },
  },
  {
    operationId: 'listWorkflows',
    method: 'GET',
    url: '/v1/workflows',
    summary: 'Stored workflows, newest first (keyset pagination with `cursor`)',
    scope: 'workflows:read',
    query: 'WorkflowListQuery',
    responses: { 200: 'WorkflowList', ...authErrors },
  },
  {
    operationId: 'getWorkflow',
    method: 'GET',
    url: '/v1/workflows/:digest',
    summary: 'One stored workflow: its manifest and plan',
    scope: 'workflows:read',
    params: 'DigestParams',
    responses: { 200: 'WorkflowDetail', ...authErrors, ...errors(404) },
  },
  {
    operationId: 'createRun',
    method: 'POST',
    url: '/v1/runs',
    summary: 'Start a run of a stored workflow (honours Idempotency-Key)',
    scope: 'runs:write',
    body: { 'application/json': 'RunCreate' },
    responses: { 202: 'RunAccepted', ...authErrors, ...errors(404, 409, 413, 415, 422) },
  },
  {
    operationId: 'triggerRunbook',
    method: 'POST',
    url: '/v1/runbooks/:namespace/:name/trigger',
    summary:
      'SIG starts an allow-listed runbook (MAESTRO_RUNBOOKS_FILE) after the policy decision point allows it for the purpose, authority and license of the body (the runbook-trigger contract, schemas/sig/runbook-trigger/v3); 403 with the reason otherwise',
    scope: 'runbooks:trigger',
    params: 'RunbookParams',
    body: { 'application/json': 'RunbookTrigger' },
    responses: { 202: 'RunbookTriggered', ...authErrors, ...errors(404, 413, 415, 422, 503) },
  },
  {
    operationId: 'listRuns',
    method: 'GET',
    url: '/v1/runs',
    summary: 'Runs, newest first, keyset-paginated on (created, id)',
    scope: 'runs:read',
    query: 'RunListQuery',
    responses: { 200: 'RunList', ...authErrors },
  },
  {
    operationId: 'getRun',
    method: 'GET',
    url: '/v1/runs/:id',
    summary: 'A run, its tasks, attempts, policy decisions and receipt digests',
    scope: 'runs:read',
    params: 'RunIdParams',
    responses: { 200: 'RunDetail', ...authErrors, ...errors(404) },
  },
  {
    operationId: 'cancelRun',
    method: 'POST',
    url: '/v1/runs/:id/cancel',
    summary: 'Ask for the run to be cancelled; returns the run',
    scope: 'runs:write',
    params: 'RunIdParams',
    responses: { 200: 'RunDetail', ...authErrors, ...errors(404, 409) },
  },
  {
    operationId: 'retryRun',
    method: 'POST',
    url: '/v1/runs/:id/retry',
    summary:
      'Retry the failed part as new attempts in the same run (a no-op while it is live); `task=` retries just that failed task and what it skipped',
    scope: 'runs:write',
    params: 'RunIdParams',
    query: 'RetryQuery',
    responses: { 200: 'RunDetail', ...authErrors, ...errors(404, 409) },
  },
  {
    operationId: 'approveRun',
    method: 'POST',
    url: '/v1/runs/:id/approvals',
    summary:
      "Approve a run waiting for approval as the token's user (201 recorded, 200 already recorded); the run starts once the workflow's rule is met",
    scope: 'approvals:write',
    params: 'RunIdParams',
    responses: { 200: 'ApprovalAnswer', 201: 'ApprovalAnswer', ...authErrors, ...errors(404, 409, 503) },
  },
  {
    operationId: 'approveTask',
    method: 'POST',
    url: '/v1/runs/:id/tasks/:taskId/approvals',
    summary:
      "Approve an approval task (uses: tasks/approval@1) the run is waiting on, as the token's user (201 recorded, 200 already recorded: one reviewer counts once); the run carries on once the task's count is met",
    scope: 'approvals:write',
    params: 'RunTaskParams',
    responses: {
      200: 'TaskApprovalAnswer',
      201: 'TaskApprovalAnswer',
      ...authErrors,
      ...errors(404, 409, 503),
    },
  },
  {
    operationId: 'streamLogs',
    method: 'GET',
    url: '/v1/runs/:id/logs',
    summary:
      "The run's log lines as server-sent events (live with `follow=true`, resumable with Last-Event-ID)",
    scope: 'runs:read',
    params: 'RunIdParams',
    query: 'LogQuery',
    responses: { ...authErrors, ...errors(404) },
    rawResponses: {
      200: {
        media: 'text/event-stream',
        description:
          'Events `log` (data: LogEvent, id: the line id) and, once the run is terminal and every line was sent, `end` (data: LogEnd).',
      },
    },
  },
  {
    operationId: 'listTransitions',
    method: 'GET',
    url: '/v1/runs/:id/transitions',
    summary: "The run's and its tasks' state changes in order (`after` for only the new ones)",
    scope: 'runs:read',
    params: 'RunIdParams',
    query: 'TransitionQuery',
    responses: { 200: 'TransitionList', ...authErrors, ...errors(404) },
  },
  {
    operationId: 'getRunGraph',
    method: 'GET',
    url: '/v1/runs/:id/graph',
    summary:
      "The run's plan laid out as a graph (computed once per plan digest) with duration estimates from the workflow's history",
    scope: 'runs:read',
    params: 'RunIdParams',
    responses: { 200: 'RunGraph', ...authErrors, ...errors(404) },
  },
  {
    operationId: 'listRunDecisions',
    method: 'GET',
    url: '/v1/runs/:id/decisions',
    summary: "The policy decisions about the run's attempts, with their reasons, oldest first",
    scope: 'runs:read',
    params: 'RunIdParams',
    responses: { 200: 'PolicyDecisionList', ...authErrors, ...errors(404) },
  },
  {
    operationId: 'listReceipts',
    method: 'GET',
    url: '/v1/runs/:id/receipts',
    summary: "The run's signed receipt bundles (`?task=` narrows)",
    scope: 'runs:read',
    params: 'RunIdParams',
    query: 'ReceiptQuery',
    responses: { 200: 'ReceiptList', ...authErrors, ...errors(404) },
  },
  {
    operationId: 'getDisclosure',
    method: 'GET',
    url: '/v1/runs/:id/disclosure',
    summary:
      "The run's disclosure bundle, as `maestro disclose` packs it: plan, manifest, receipts, attested artifacts, policy decisions and approval under a signed index (verify it offline with `maestro disclose verify`)",
    scope: 'runs:read',
    params: 'RunIdParams',
    responses: { ...authErrors, ...errors(404, 409) },
    rawResponses: {
      200: {
        media: 'application/gzip',
        description:
          'A gzipped tar: index.json signed by the server (index.sigstore.json), the plan, the receipts, the artifacts they attest, the policy decisions and the approval attestation.',
      },
    },
  },
  {
    operationId: 'listVerificationKeys',
    method: 'GET',
    url: '/v1/keys',
    summary:
      'The public keys (PEM, JWK, keyid) receipts are signed with, or for keyless signing the certificate identity, OIDC issuer and Sigstore trust root, so a client verifies receipts itself instead of asking the server',
    scope: 'runs:read',
    namespaceFree: true,
    responses: { 200: 'VerificationKeys', ...authErrors },
  },
  {
    operationId: 'putBudget',
    method: 'PUT',
    url: '/v1/budgets/:namespace',
    summary:
      "Set a namespace's budget (a limit per calendar period, with an optional soft threshold) and quotas (runs and tasks at once), replacing what it had",
    scope: 'budgets:write',
    params: 'BudgetParams',
    body: { 'application/json': 'BudgetSet' },
    responses: { 200: 'Budget', ...authErrors, ...errors(413, 415) },
  },
  {
    operationId: 'getBudget',
    method: 'GET',
    url: '/v1/budgets/:namespace',
    summary: "A namespace's budget and quotas, with what it spent in the current period",
    scope: 'usage:read',
    params: 'BudgetParams',
    responses: { 200: 'Budget', ...authErrors, ...errors(404) },
  },
  {
    operationId: 'listBudgets',
    method: 'GET',
    url: '/v1/budgets',
    summary: "Every namespace's budget the token may read, by name, with what each spent in its period",
    scope: 'usage:read',
    query: 'BudgetListQuery',
    responses: { 200: 'BudgetList', ...authErrors },
  },
  {
    operationId: 'getUsage',
    method: 'GET',
    url: '/v1/usage',
    summary:
      'Estimated and actual cost, task-hours, attempts and runs of the attempts started in a window, by namespace, workflow or task (a namespace-limited token: its namespaces only)',
    scope: 'usage:read',
    query: 'UsageQuery',
    responses: { 200: 'UsageReport', ...authErrors },
  },
  {
    operationId: 'querySbom',
    method: 'GET',
    url: '/v1/sbom',
    summary:
      'Which stored releases and images contain a component (`component=name` or `group/name`), optionally in a semver range (`version=^7.5`); from the SBOMs `maestro sbom add` verified and stored',
    scope: 'sbom:read',
    // SBOMs belong to no namespace and describe what every namespace runs: a token limited to
    // some namespaces is refused, as for the metrics.
    allNamespaces: true,
    query: 'SbomQuery',
    responses: { 200: 'SbomMatches', ...authErrors, ...errors(422) },
  },
  {
    operationId: 'createSession',
    method: 'POST',
    url: '/v1/session',
    summary:
      'Exchange the bearer token for a console session: an HttpOnly, SameSite=Strict cookie (Secure over TLS) and its CSRF token',
    scope: 'console',
    namespaceFree: true,
    responses: { 201: 'Session', ...authErrors },
  },
  {
    operationId: 'getSession',
    method: 'GET',
    url: '/v1/session',
    summary: "The cookie's session: who, which scopes and namespaces, until when, and its CSRF token",
    scope: 'console',
    namespaceFree: true,
    responses: { 200: 'Session', ...authErrors, ...errors(404) },
  },
  {
    operationId: 'deleteSession',
    method: 'DELETE',
    url: '/v1/session',
    summary: "Sign out: end the cookie's session and clear the cookie",
    scope: 'console',
    namespaceFree: true,
    responses: { 200: 'SignedOut', ...authErrors },
  },
  {
    operationId: 'streamEvents',
    method: 'GET',
    url: '/v1/events',
    summary:
      'Run and task state changes of the namespaces the token may see, as server-sent events (resumable with Last-Event-ID)',
    scope: 'runs:read',
    query: 'EventQuery',
    responses: { ...authErrors },
    rawResponses: {
      200: {
        media: 'text/event-stream',
        description:
          'First `ready` (data: StreamReady; its id is the position), then `run` and `task` events (data: StateEvent, id: the position in the store-wide order); `end` (data: {reason}) when the credential stops being good.',
      },
    },
  },
  {
    operationId: 'metrics',
    method: 'GET',
    url: '/metrics',
    summary:
      'Prometheus metrics of this process: requests by route template, method and status, requests in flight, process metrics (no token with `--metrics-public`)',
    scope: 'metrics:read',
    allNamespaces: true,
    responses: { ...authErrors },
    rawResponses: {
      200: {
        media: 'text/plain',
        description: 'The Prometheus text exposition format, version 0.0.4.',
      },
    },
  },
];
