/**
 * Where one task's Job goes: which cluster, and which Kubernetes namespace on it. Pure, so the
 * engine can ask before a run is stored (an impossible placement refuses the run, as an unknown
 * runner does) and the runner answers the same at start.
 *
 * Precedence, failing closed: a namespace pinned to a cluster (`{ namespace, cluster }`) is a
 * boundary, not a preference: its tasks run on that cluster or not at all, so a resource class of
 * another cluster is refused (`ClusterConflict`), never followed. Otherwise the resource class's
 * cluster, otherwise the default cluster.
 */
import { defaultClusterOf, type ClusterSettings } from './clusters.ts';

export type PlacementRefusal = {
  reason: 'NamespaceNotMapped' | 'UnknownResourceClass' | 'ClusterConflict';
  message: string;
};

/** A Kubernetes placement always has a namespace (the core port's `RunnerPlacement`, narrowed). */
export type PlacementAnswer =
  { placement: { cluster: string; namespace: string } } | { refused: PlacementRefusal };

export function placeTask(
  settings: ClusterSettings,
  task: { namespace: string; resources: string },
): PlacementAnswer {
  const mapped = Object.hasOwn(settings.namespaces, task.namespace)
    ? settings.namespaces[task.namespace]
    : undefined;
  if (mapped === undefined)
    return {
      refused: {
        reason: 'NamespaceNotMapped',
        message: `manifest namespace ${JSON.stringify(task.namespace)} is not mapped to a Kubernetes namespace`,
      },
    };
  const rc = Object.hasOwn(settings.resourceClasses, task.resources)
    ? settings.resourceClasses[task.resources]
    : undefined;
  if (rc === undefined)
    return {
      refused: {
        reason: 'UnknownResourceClass',
        message: `resource class ${JSON.stringify(task.resources)} is not configured for the kubernetes runner`,
      },
    };
  const pinned = typeof mapped === 'string' ? undefined : mapped.cluster;
  const namespace = typeof mapped === 'string' ? mapped : mapped.namespace;
  if (pinned !== undefined && rc.cluster !== undefined && rc.cluster !== pinned)
    return {
      refused: {
        reason: 'ClusterConflict',
        message:
          `manifest namespace ${JSON.stringify(task.namespace)} runs only on cluster ${pinned}, ` +
          `but resource class ${JSON.stringify(task.resources)} runs only on cluster ${rc.cluster}`,
      },
    };
  return { placement: { cluster: pinned ?? rc.cluster ?? defaultClusterOf(settings), namespace } };
}
