import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { invalidRunnerConfig, isMapping, requireResourceClasses, type RunnerFactory } from '../factory.ts';
import type { KubernetesRunnerConfig } from './config.ts';
import { createKubernetesRunner } from './kubernetes-runner.ts';

/** Where a pod's service account token (the in-cluster configuration's credential) is mounted. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * The files holding the section's cluster credentials: every kubeconfig it names and, when a
 * cluster uses the in-cluster configuration, the pod's service account token. A kubeconfig
 * projected by a Secret volume (its directory holds the kubelet's `..data` link) is hidden with
 * its directory: what else is there is the same Secret's (its other keys, the timestamped
 * directories the kubelet swaps in on rotation).
 */
export function kubernetesSecretFiles(section: Record<string, unknown>): string[] {
  const files = new Set<string>();
  const add = (path: unknown): boolean => {
    if (typeof path !== 'string' || path === '') return false;
    const file = resolve(path);
    files.add(existsSync(join(dirname(file), '..data')) ? dirname(file) : file);
    return true;
  };
  const shared = add(section.kubeconfig);
  const clusters = isMapping(section.clusters) ? Object.values(section.clusters) : [{}];
  for (const cluster of clusters)
    if (!add(isMapping(cluster) ? cluster.kubeconfig : undefined) && !shared) files.add(SERVICE_ACCOUNT_DIR);
  return [...files];
}

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
  secretFiles: kubernetesSecretFiles,
};
