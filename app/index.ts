// The public face of app/: the GitHub App (probot), its configuration and its store.
export { createMaestroApp, type MaestroApp, type MaestroAppOptions } from './maestro-app.ts';
export { readAppConfig, DEFAULT_WEBHOOK_PATH, type AppConfig } from './config.ts';
export { openAppStore, type AppStore } from './app-store.ts';
export { checkWebhookSignature, signWebhookBody } from './verify-signature.ts';
export { AppConfigError, GitHubCallError, AppErrorCode } from './errors.ts';
export type { CompileFn } from './compile-snapshot.ts';
export type { Engines } from './dispatch-runs.ts';
export type { SensitivityCheck, ApprovalRequirement } from './approval-gate.ts';
export { countApprovals, type ApprovalFacts, type ReviewFact, NotCountedReason } from './count-approvals.ts';
export { parseCodeowners, ownersOf } from './codeowners.ts';
export { VALIDATE_CHECK_NAME } from './render-validate.ts';
export { APPROVAL_CHECK_NAME } from './approval-gate.ts';
export { RUN_CHECK_PREFIX, RETRY_ACTION, CANCEL_ACTION } from './render-run.ts';
export { APPROVAL_PREDICATE_TYPE, checkApproval } from './approval-attestation.ts';
export { openAppRuntime, type AppRuntime, type AppRuntimeOptions } from './runtime.ts';
export { policySensitivity } from './policy-sensitivity.ts';
