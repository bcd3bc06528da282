import { invalidRunnerConfig, isMapping, requireResourceClasses, type RunnerFactory } from '../factory.ts';
import type { KubernetesRunnerConfig } from './config.ts';
import { createKubernetesRunner } from './kubernetes-runner.ts';

/** The `kubernetes` section: validated by validateKubernetesConfig inside createKubernetesRunner. */
export const kubernetesRunnerFactory: RunnerFactory = {
  create(section, context) {
    requireResourceClasses('kubernetes', section);
    if (section.namespaces !== undefined && !isMapping(section.namespaces))
      throw invalidRunnerConfig('`kubernetes.namespaces` must be a mapping');
    return createKubernetesRunner(
      section as unknown as KubernetesRunnerConfig,
      context.imageGate ? { imageGate: context.imageGate } : {},
    );
  },
};
