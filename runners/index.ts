// The runners: each backend, and the factory map (RUNNER_FACTORIES) the runtime builds them from.
export { RUNNER_FACTORIES } from './factories.ts';
export { isMapping, invalidRunnerConfig, type RunnerFactory, type RunnerFactoryContext } from './factory.ts';
export {
  createLocalRunner,
  baseEnvFrom,
  BASE_ENV_NAMES,
  type LocalRunner,
  type LocalRunnerOptions,
  type SpawnPathInfo,
  probeSandbox,
  attemptLayout,
  bwrapArgs,
  defaultReadOnlyPaths,
  SandboxUnavailableError,
  type SandboxLayout,
  type SandboxMode,
  type SandboxProbe,
} from './local/index.ts';
export { parseOutputsFile, LineSplitter, LogChannel, type ParsedOutputs } from './shared/index.ts';
