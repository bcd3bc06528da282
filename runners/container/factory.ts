import { requireResourceClasses, type RunnerFactory } from '../factory.ts';
import type { ContainerRunnerConfig } from './config.ts';
import { createContainerRunner } from './container-runner.ts';

/** The `container` section: validated by validateContainerConfig inside createContainerRunner. */
export const containerRunnerFactory: RunnerFactory = {
  create(section, context) {
    requireResourceClasses('container', section);
    return createContainerRunner(
      section as unknown as ContainerRunnerConfig,
      context.imageGate ? { imageGate: context.imageGate } : {},
    );
  },
};
