/**
 * The clusters of the Kubernetes runner's section and the mappings that name them: checked when
 * the runner is built, so an unknown cluster name is the operator's config error (with the field
 * that names it), never a task's failure at run time.
 */
import { InputError } from '../../core/index.ts';

/** One cluster the runner reaches: a kubeconfig file (or the in-cluster account) and a context. */
export interface KubernetesCluster {
  /** Path of a kubeconfig file; default the section's `kubeconfig`; neither: in-cluster. */
  kubeconfig?: string;
  /** Context within the kubeconfig; default its current context. */
  context?: string;
}

/** A manifest namespace pinned to one cluster: its tasks run there and nowhere else. */
export interface KubernetesNamespaceMapping {
  namespace: string;
  cluster: string;
}

/** The name of the one cluster of a section without `clusters`. */
export const DEFAULT_CLUSTER = 'default';

/** The part of the runner's section that says where things run. */
export interface ClusterSettings {
  kubeconfig?: string;
  context?: string;
  clusters?: Record<string, KubernetesCluster>;
  defaultCluster?: string;
  namespaces: Record<string, string | KubernetesNamespaceMapping>;
  resourceClasses: Record<string, { cluster?: string }>;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const CLUSTER_KEYS = new Set(['kubeconfig', 'context']);
const MAPPING_KEYS = new Set(['namespace', 'cluster']);

function fail(message: string, hint?: string): never {
  throw new InputError('runner_config_invalid', `kubernetes runner: ${message}`, hint ? { hint } : {});
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every cluster by name, each with its kubeconfig file and context resolved. */
export function clustersOf(settings: ClusterSettings): Map<string, KubernetesCluster> {
  if (!settings.clusters) {
    const only: KubernetesCluster = {};
    if (settings.kubeconfig) only.kubeconfig = settings.kubeconfig;
    if (settings.context) only.context = settings.context;
    return new Map([[DEFAULT_CLUSTER, only]]);
  }
  const out = new Map<string, KubernetesCluster>();
  for (const [name, c] of Object.entries(settings.clusters)) {
    const kubeconfig = c.kubeconfig ?? settings.kubeconfig;
    out.set(name, { ...(kubeconfig ? { kubeconfig } : {}), ...(c.context ? { context: c.context } : {}) });
  }
  return out;
}

/** The cluster of tasks whose namespace and resource class name none. */
export function defaultClusterOf(settings: ClusterSettings): string {
  if (!settings.clusters) return DEFAULT_CLUSTER;
  return settings.defaultCluster ?? Object.keys(settings.clusters)[0]!;
}

function checkClusterEntries(clusters: unknown, hasContext: boolean): string[] {
  if (!isMapping(clusters) || Object.keys(clusters).length === 0)
    fail('`clusters` must be a mapping of cluster names', 'e.g. clusters: { east: { context: east } }');
  if (hasContext)
    fail(
      '`context` cannot be set beside `clusters`',
      'give each cluster its own context: clusters: { east: { context: east } }',
    );
  for (const [name, entry] of Object.entries(clusters)) {
    if (!DNS1123_LABEL.test(name))
      fail(`clusters.${name}: a cluster name must be a DNS-1123 label (lower-case letters, digits, -)`);
    if (!isMapping(entry)) fail(`clusters.${name} must be a mapping (kubeconfig, context)`);
    for (const key of Object.keys(entry))
      if (!CLUSTER_KEYS.has(key))
        fail(`clusters.${name}.${key} is not a cluster setting (kubeconfig, context)`);
    for (const key of CLUSTER_KEYS)
      if (entry[key] !== undefined && (typeof entry[key] !== 'string' || entry[key] === ''))
        fail(`clusters.${name}.${key} must be a non-empty string`);
  }
  return Object.keys(clusters);
}

function checkNamed(field: string, cluster: unknown, known: string[], configured: boolean): void {
  if (typeof cluster === 'string' && known.includes(cluster)) return;
  if (cluster === undefined) fail(`${field} is required (or map the namespace to a plain name)`);
  fail(
    `${field} names the cluster ${JSON.stringify(cluster)}, which is not configured`,
    configured
      ? `the clusters are ${known.join(', ')}`
      : 'add a `clusters` mapping (e.g. clusters: { east: { context: east } }) or remove the field',
  );
}

/** Throws `runner_config_invalid` naming the field, for every shape and name the mappings get wrong. */
export function validateClusters(settings: ClusterSettings): void {
  const configured = settings.clusters !== undefined;
  const known = configured
    ? checkClusterEntries(settings.clusters, settings.context !== undefined)
    : [DEFAULT_CLUSTER];
  if (settings.defaultCluster !== undefined) {
    if (!configured) fail('`defaultCluster` needs a `clusters` mapping');
    checkNamed('defaultCluster', settings.defaultCluster, known, configured);
  } else if (known.length > 1)
    fail('`defaultCluster` is required with more than one cluster', `e.g. defaultCluster: ${known[0]}`);
  for (const [from, to] of Object.entries(settings.namespaces)) {
    const mapping = isMapping(to) ? to : { namespace: to };
    if (isMapping(to))
      for (const key of Object.keys(to))
        if (!MAPPING_KEYS.has(key))
          fail(`namespaces.${from}.${key} is not a namespace setting (namespace, cluster)`);
    if (typeof mapping.namespace !== 'string' || !DNS1123_LABEL.test(mapping.namespace))
      fail(`namespaces.${from} → ${JSON.stringify(mapping.namespace)} is not a valid Kubernetes namespace`);
    if (isMapping(to)) checkNamed(`namespaces.${from}.cluster`, to.cluster, known, configured);
  }
  for (const [name, rc] of Object.entries(settings.resourceClasses))
    if (rc.cluster !== undefined)
      checkNamed(`resourceClasses.${name}.cluster`, rc.cluster, known, configured);
}
