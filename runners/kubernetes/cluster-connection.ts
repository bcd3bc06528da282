/**
 * One connection per configured cluster: its KubeConfig, API clients and the namespace watch hubs
 * of the attempts the runner follows there. Built when the runner is (a kubeconfig that cannot be
 * read is the operator's config error at startup, not a task's at run time).
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { InputError, type Clock } from '../../core/index.ts';
import type { KubernetesRunnerStats, TrackerContext } from './attempt-tracker.ts';
import { clustersOf, type KubernetesCluster } from './clusters.ts';
import { kubernetesClient } from './client-library.ts';
import type { KubernetesRunnerConfig } from './config.ts';
import { NamespaceWatchHub } from './watch-hub.ts';

export interface ClusterConnection extends TrackerContext {
  name: string;
  hubFor(namespace: string): NamespaceWatchHub;
  stop(): void;
}

export function loadClusterKubeConfig(cluster: KubernetesCluster): KubeConfig {
  const kc = new (kubernetesClient().KubeConfig)();
  if (cluster.kubeconfig) {
    kc.loadFromFile(cluster.kubeconfig);
    if (cluster.context) {
      // setCurrentContext accepts any name; a context the file lacks would fail every request later.
      if (!kc.getContexts().some((c) => c.name === cluster.context))
        throw new InputError(
          'runner_config_invalid',
          `kubernetes runner: context ${JSON.stringify(cluster.context)} is not in ${cluster.kubeconfig}`,
          {
            hint: `the contexts there are ${
              kc
                .getContexts()
                .map((c) => c.name)
                .join(', ') || 'none'
            }`,
          },
        );
      kc.setCurrentContext(cluster.context);
    }
  } else kc.loadFromCluster();
  return kc;
}

export function connectClusters(
  config: KubernetesRunnerConfig,
  shared: { clock: Clock; stats: KubernetesRunnerStats },
  given: Record<string, KubeConfig> = {},
): Map<string, ClusterConnection> {
  const out = new Map<string, ClusterConnection>();
  for (const [name, cluster] of clustersOf(config)) {
    let kubeConfig: KubeConfig;
    try {
      kubeConfig = given[name] ?? loadClusterKubeConfig(cluster);
    } catch (error) {
      const where = config.clusters ? `clusters.${name}` : 'kubeconfig';
      if (error instanceof InputError) throw error;
      throw new InputError(
        'runner_config_invalid',
        `kubernetes runner: ${where}: ${(error as Error).message}`,
      );
    }
    const hubs = new Map<string, NamespaceWatchHub>();
    const connection: ClusterConnection = {
      name,
      kubeConfig,
      batch: kubeConfig.makeApiClient(kubernetesClient().BatchV1Api),
      core: kubeConfig.makeApiClient(kubernetesClient().CoreV1Api),
      config,
      ...shared,
      hubFor(namespace) {
        let hub = hubs.get(namespace);
        if (!hub) hubs.set(namespace, (hub = new NamespaceWatchHub(connection, namespace)));
        return hub;
      },
      stop() {
        for (const hub of hubs.values()) hub.stop();
        hubs.clear();
      },
    };
    out.set(name, connection);
  }
  return out;
}
