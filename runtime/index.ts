// The public face of runtime/: the one composition root every surface uses (see README.md).
export { openRuntime, type Runtime, type RuntimeOptions, type EngineScope } from './open-runtime.ts';
export {
  runtimeConfigFromEnv,
  resolveDataDir,
  durabilityFrom,
  type Env,
  type RuntimeFlags,
  type RuntimeConfigSource,
} from './config-from-env.ts';
export type {
  RuntimeConfig,
  PolicySetting,
  RunnersSetting,
  Durability,
  TraceExporter,
} from './runtime-config.ts';
export { DEFAULT_WORKER_RUNS, workerConcurrency, withExecutingConcurrency } from './executing-concurrency.ts';
export { parseSecretsFile, loadSecrets } from './secrets-file.ts';
export { priceTableSetting, readPriceTableFile } from './price-table-file.ts';
export { findDockerSocket, detectedContainerSection, DEFAULT_CONTAINER_IMAGE } from './docker-socket.ts';
export type { Tracing } from './open-tracing.ts';
export { openPolicyLog, type DecisionLogSetting } from './open-policy.ts';
