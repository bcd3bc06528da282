/** Builds every configured runner from its section through RUNNER_FACTORIES (runners/factories.ts). */
import { InputError, isMaestroError, RunnerRegistry, type Runner } from '../core/index.ts';
import { RUNNER_FACTORIES, type RunnerFactoryContext } from '../runners/index.ts';
import type { RunnersSetting } from './runtime-config.ts';

export interface OpenedRunners {
  registry: RunnerRegistry;
  close(): Promise<void>;
}

/** A factory's refusal gets the file name in front, so the operator knows which file to fix. */
export function openRunners(setting: RunnersSetting, context: RunnerFactoryContext): OpenedRunners {
  const built: Runner[] = [];
  const where = setting.file ?? 'runners configuration';
  // Every runner's secret files are hidden from every task (the local runner's sandbox masks them).
  const secretFiles = Object.entries(setting.sections).flatMap(
    ([kind, section]) => RUNNER_FACTORIES[kind]?.secretFiles?.(section) ?? [],
  );
  const shared = { ...context, hiddenPaths: [...context.hiddenPaths, ...secretFiles] };
  try {
    for (const [kind, section] of Object.entries(setting.sections)) {
      const factory = RUNNER_FACTORIES[kind];
      if (!factory)
        throw new InputError('runner_config_invalid', `unknown runner kind \`${kind}\``, {
          hint: `the kinds are ${Object.keys(RUNNER_FACTORIES).join(', ')}`,
        });
      built.push(factory.create(section, shared));
    }
  } catch (error) {
    for (const runner of built) void runner.close?.();
    if (isMaestroError(error) && error.code === 'runner_config_invalid')
      throw new InputError('runner_config_invalid', `${where}: ${error.message}`, {
        ...(error.hint ? { hint: error.hint } : {}),
      });
    if (isMaestroError(error)) throw error;
    throw new InputError('runner_config_invalid', `${where}: ${(error as Error).message}`);
  }
  const registry = new RunnerRegistry();
  for (const runner of built) registry.register(runner);
  return {
    registry,
    close: async () => {
      for (const runner of built) await runner.close?.();
    },
  };
}
