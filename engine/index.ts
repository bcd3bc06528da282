// The public face of engine/: the store port and its embedded implementation, and the engine.
export {
  openStore,
  openAsyncStore,
  databaseKind,
  type DatabaseKind,
  type OpenStoreOptions,
} from './store/open-store.ts';
// PostgreSQL for every other store (the API's, the schedules', the decision log's, the App's): one
// pool opener and migration runner, one reconnect policy.
export {
  openPool as openPostgresPool,
  redactedUrl,
  type PostgresSchema,
} from './store/postgres/open-pool.ts';
export { retrying, transaction, type Db } from './store/postgres/reconnect.ts';
export { prepared, type Prepared } from './store/postgres/prepared.ts';
export { migrateSqlite, type SqliteSchema } from './store/sqlite/open-database.ts';
// Params as a run would get them, and a task's `with` as far as it is known before the run starts.
export { resolveParams, withBeforeRun } from './params.ts';
// The policy decision log on PostgreSQL (policy/ defines it and keeps it on SQLite).
export { openPostgresDecisionLog } from './store/postgres/postgres-decision-log.ts';
export { sqliteDecisionLog, LEGACY_DECISION_LOG } from './store/sqlite/sqlite-decision-log.ts';
export { taskLeaseName, type AsyncStore, type TaskClaim } from './store/async-store.ts';
export { PostgresStore, openPostgresStore } from './store/postgres/postgres-store.ts';
export { asyncSqliteStore, type AsyncSqliteStore } from './store/sqlite/async-sqlite-store.ts';
export type { SqliteStore } from './store/sqlite/sqlite-store.ts';
export type {
  RunRecord,
  TaskApprovalRecord,
  TaskRecord,
  TransitionRecord,
  FeedTransition,
  FeedQuery,
  AttemptRecord,
  StoredLogLine,
  CacheEntry,
  ReceiptRecord,
  RunFilter,
  NewRun,
  Lease,
  RunWrite,
  RunTransitionWrite,
  TaskTransitionWrite,
  BudgetPeriod,
  NamespaceBudget,
  UsageQuery,
  UsageRow,
} from './store/store.ts';
export { createEngine } from './engine.ts';
export {
  isApprovalTask,
  isParked,
  approvalSpecOf,
  dueTimeouts,
  TaskNotWaitingError,
  ApproverIsAuthorError,
  ApproverNotAllowedError,
  ApprovalKeyMissingError,
  type ApprovalKeys,
  type ApprovalSpec,
  type TaskApprovalCount,
  type TaskApprovalRequest,
  type SweepResult,
  type SweepOptions,
  SWEEP_LEASE,
  startApprovalSweeper,
  DEFAULT_SWEEP_MS,
  type ApprovalSweeper,
} from './approval-task/index.ts';
export type { Engine, EngineOptions, SubmitOptions } from './engine-options.ts';
export {
  contextOfTraceParent,
  normalTraceParent,
  traceIdOf,
  traceIdOfParent,
  traceParentOf,
} from './trace-context.ts';
export type { EngineEvent, EngineListener, RunOf } from './events.ts';
export type { BreakerOptions } from './breaker.ts';
export type { ReplayReport, ReplayTaskReport, ReplayItem } from './replay.ts';
export { backoffCeiling, retryDelay, nextRetry } from './retry.ts';
export {
  IllegalTransitionError,
  StaleStateError,
  LeaseLostError,
  StoreUnusableError,
  RunBusyError,
  RunNotFoundError,
  ApprovalPendingError,
  RunNotWaitingError,
  RunNotApprovedError,
  TaskNotRetryableError,
  MissingSecretError,
  PolicyRequiredError,
  RunnerNotConfiguredError,
  RunnerPlacementError,
} from './errors.ts';
export * from './schedules/index.ts';
// What attempts cost (docs/budgets.md): the default price table and an operator's over it.
export {
  DEFAULT_PRICE_TABLE,
  RESOURCE_CLASSES,
  costOf,
  formatMoney,
  pricePerHour,
  type ClassSize,
  type PriceTable,
} from './cost.ts';
export { periodStart } from './budget-period.ts';
export { budgetOf, budgetView } from './budget-view.ts';
export { usageReport, usageCsv, DEFAULT_USAGE_WINDOW_MS, type UsageOptions } from './usage-report.ts';
export {
  PRICE_TABLE_SECTIONS,
  parsePriceTable,
  priceTableError,
  type SectionChecker,
} from './price-table.ts';
// A run's evidence for a disclosure archive (`maestro disclose`, the Action's mode `run`).
export { gatherDisclosure, DECISION_LOG_DB, type GatherOptions } from './disclosure-gather.ts';
export { exportReceipts, receiptFileName } from './receipt-files.ts';
// Artifacts between tasks on runners that do not share the engine's disk (artifact-store/).
export {
  ArtifactDigestMismatchError,
  ArtifactStoreError,
  type ArtifactObject,
  type ArtifactStore,
} from './artifact-store/artifact-store.ts';
export { dataDirArtifactStore } from './artifact-store/data-dir-artifact-store.ts';
export {
  s3ArtifactStore,
  type S3ArtifactStoreOptions,
  type S3Credentials,
} from './artifact-store/s3-artifact-store.ts';
