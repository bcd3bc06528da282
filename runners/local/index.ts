// The local runner: one process group per attempt, started through the C launcher when it can be
// built and through child_process otherwise. See README.md.
export {
  createLocalRunner,
  type LocalRunner,
  type LocalRunnerOptions,
  type SpawnPathInfo,
  defaultReadOnlyPaths,
} from './local-runner.ts';
export { attemptLayout } from './sandboxed-spec.ts';
export { localRunnerFactory } from './factory.ts';
export { baseEnvFrom, BASE_ENV_NAMES } from './environment.ts';
export { ensureLauncherBinary, type LauncherBuild } from './launcher-build.ts';
export {
  bwrapArgs,
  probeSandbox,
  HostAccessRefusedError,
  SandboxUnavailableError,
  type HostAccessGrant,
  type Isolation,
  type SandboxLayout,
  type SandboxMode,
  type SandboxProbe,
} from './sandbox.ts';
