// The public face of app/: the GitHub App (probot), its configuration and its store.
export { createMaestroApp, type MaestroApp, type MaestroAppOptions } from './maestro-app.ts';
export {
  readAppConfig,
  readSetupConfig,
  needsSetup,
  withStoredCredentials,
  DEFAULT_WEBHOOK_PATH,
  type AppConfig,
  type SetupConfig,
} from './config.ts';
export { createSetupServer, findAppYml, startWebhookProxy, CREDENTIALS_FILE } from './setup/index.ts';
export type { AppStore, StoredAttestation, StoredDispatch, StoredRun } from './app-store.ts';
export { openAppStore, type OpenAppStoreOptions } from './store/open-app-store.ts';
export { openSqliteAppStore } from './store/sqlite-app-store.ts';
export {
  checkWebhookSignature,
  signWebhookBody,
  openDeliveryStore,
  openSqliteDeliveryStore,
  createWebhookIngress,
  DEFAULT_INGRESS_LIMITS,
  type DeliveryStore,
  type IngressLimits,
  type WebhookIngress,
} from './ingress/index.ts';
export { AppConfigError, GitHubCallError, AppErrorCode } from './errors.ts';
export type { CompileFn } from './source/compile-snapshot.ts';
export type { Engines } from './dispatch/dispatch-runs.ts';
export type { SensitivityCheck, ApprovalRequirement } from './gate/approval-gate.ts';
export { parseCodeowners, ownersOf } from './gate/codeowners.ts';
export { VALIDATE_CHECK_NAME } from './checks/render-validate.ts';
export { APPROVAL_CHECK_NAME } from './checks/render-approval.ts';
export { RUN_CHECK_PREFIX, RETRY_ACTION, CANCEL_ACTION } from './checks/render-run.ts';
export { openAppRuntime, type AppRuntime, type AppRuntimeOptions } from './runtime.ts';
export { policySensitivity } from './gate/policy-sensitivity.ts';
