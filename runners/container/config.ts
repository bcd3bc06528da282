/**
 * Operator configuration of the container runner (docs/runners.md). Resource classes map a
 * manifest's `resources` name to limits; the runner refuses an unknown class rather than guessing.
 */
import { InputError, resolveNetwork, type RunnerStartRequest } from '../../core/index.ts';

export interface ContainerResourceClass {
  /** Memory limit in bytes. */
  memoryBytes?: number;
  /** CPU limit in cores (fractions allowed, e.g. 0.5). */
  cpus?: number;
  /** Maximum number of processes in the container. */
  pids?: number;
}

export interface ContainerRunnerConfig {
  /** Docker Engine API socket (Docker's or `podman system service`'s). */
  socketPath: string;
  /** Image for `shell`/`argv` commands when the request names none. */
  defaultImage: string;
  /** `never`: only local images (the default; no registry is assumed); `missing`: pull when absent. */
  pull?: 'never' | 'missing';
  /** Container user; must be non-root (`uid:gid`). Default `1000:1000`. */
  user?: string;
  /**
   * Network mode of trusted attempts (default `bridge`); `none` narrows every attempt to no network.
   * Untrusted attempts and tasks that say `network: none` always get `none` (core's resolveNetwork).
   * `host` shares the host's network namespace (reported to policy as hostNetwork, denied by default).
   */
  network?: string;
  /** Run containers privileged (e.g. image builds). Default false; reported to policy as
   * `privileged`, which the default rules deny. */
  privileged?: boolean;
  /** Grace period between SIGTERM and SIGKILL on cancel and timeout. Default 10 000 ms. */
  stopGraceMs?: number;
  resourceClasses: Record<string, ContainerResourceClass>;
}

/** The NetworkMode of one attempt: the same rule as every runner, then the operator's mode. */
export function containerNetworkMode(request: RunnerStartRequest, config: ContainerRunnerConfig): string {
  const access = resolveNetwork(request, config.network === 'none' ? 'none' : undefined);
  return access === 'none' ? 'none' : (config.network ?? 'bridge');
}

const ROOT_USERS = new Set(['0', 'root']);

/** Validates the parts a bad value would make unsafe (root user) or ambiguous. */
export function validateContainerConfig(config: ContainerRunnerConfig): void {
  const user = (config.user ?? '1000:1000').split(':')[0] ?? '';
  if (ROOT_USERS.has(user))
    throw new InputError('runner_config_invalid', 'container runner: `user` must not be root', {
      hint: 'use a numeric non-root uid:gid such as 1000:1000',
    });
  if (config.privileged !== undefined && typeof config.privileged !== 'boolean')
    throw new InputError('runner_config_invalid', 'container runner: `privileged` must be true or false');
  if (!config.socketPath)
    throw new InputError('runner_config_invalid', 'container runner: `socketPath` is required');
  if (!config.defaultImage)
    throw new InputError('runner_config_invalid', 'container runner: `defaultImage` is required');
  for (const [name, rc] of Object.entries(config.resourceClasses)) {
    for (const key of ['memoryBytes', 'cpus', 'pids'] as const) {
      const value = rc[key];
      if (value !== undefined && !(typeof value === 'number' && value > 0))
        throw new InputError(
          'runner_config_invalid',
          `container runner: resourceClasses.${name}.${key} must be a positive number`,
        );
    }
  }
}
