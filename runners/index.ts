// The runners' public face. Each runner implements core's Runner port; the engine registers the
// ones it needs in a RunnerRegistry by kind.
export {
  createLocalRunner,
  baseEnvFrom,
  BASE_ENV_NAMES,
  type LocalRunner,
  type LocalRunnerOptions,
  type SpawnPathInfo,
} from './local/index.ts';
