/**
 * Operator configuration of the Kubernetes runner (docs/runners.md): where the cluster is, which
 * Kubernetes namespace each manifest namespace maps to, and a pod template per resource class.
 */
import { InputError } from '../../core/index.ts';
import { validateClusters, type KubernetesCluster, type KubernetesNamespaceMapping } from './clusters.ts';

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export interface KubernetesResourceClass {
  requests?: { cpu?: string; memory?: string; 'ephemeral-storage'?: string };
  limits?: { cpu?: string; memory?: string; 'ephemeral-storage'?: string };
  nodeSelector?: Record<string, string>;
  tolerations?: Toleration[];
  /** Service account the pod runs as. Its token is mounted only when `mountServiceAccountToken`. */
  serviceAccountName?: string;
  mountServiceAccountToken?: boolean;
  /** Extra pod annotations (e.g. to opt out of a mesh sidecar). */
  annotations?: Record<string, string>;
  /**
   * The cluster (a key of `clusters`) this class's pods run on, e.g. `gpu` on the cluster that has
   * GPU nodes. A namespace pinned to another cluster cannot use the class (placement.ts).
   */
  cluster?: string;
}

export interface KubernetesRunnerConfig {
  /**
   * Path of a kubeconfig file; omitted means in-cluster configuration (service account). With
   * `clusters`, the file every cluster that names none of its own uses.
   */
  kubeconfig?: string;
  /** Context within the kubeconfig; default its current context. Only without `clusters`. */
  context?: string;
  /**
   * Several clusters by name (docs/runners.md, "Several clusters"). Omitted: one cluster, named
   * `default`, from `kubeconfig` and `context` above.
   */
  clusters?: Record<string, KubernetesCluster>;
  /** The cluster of tasks whose namespace and class name none; required with two clusters or more. */
  defaultCluster?: string;
  /**
   * Manifest namespace → Kubernetes namespace, or `{ namespace, cluster }` to pin it to one
   * cluster. A manifest namespace not listed cannot run here.
   */
  namespaces: Record<string, string | KubernetesNamespaceMapping>;
  /** Image for `shell`/`argv` commands when the request names none. Must contain /bin/sh for shell. */
  defaultImage: string;
  resourceClasses: Record<string, KubernetesResourceClass>;
  /** Non-root uid (and gid) the container runs as. Default 1000. */
  runAsUser?: number;
  /** Seconds a finished Job is kept before the TTL controller deletes it. Default 3600. */
  ttlSecondsAfterFinished?: number;
  /** `none`: every attempt's pod gets the `maestro.dev/network: none` label (no network). */
  network?: 'on' | 'none';
  /** How cancel deletes the Job's pods. Default `Background`. */
  deletePropagation?: 'Foreground' | 'Background';
  /** How long a pod may stay unschedulable before the attempt fails (retryable). Default 300 000 ms. */
  unschedulableTimeoutMs?: number;
  /** Stream container logs while the pod runs (needs a kubelet). Default true. */
  streamLogs?: boolean;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /**
   * How a pod gets the run's source: an init container (`image`, with git and /bin/sh) fetches the
   * exact commit into the work dir. `headerSecret` names a Secret in the Job's namespace whose key
   * `header` is the HTTP header git sends (`Authorization: Basic ...`) for private repositories.
   */
  source?: { image: string; headerSecret?: string };
  /**
   * How a pod hands back the artifacts its task declares (docs/runners.md, "Artifacts"): a native
   * sidecar from `image` (with /bin/sh, tar and curl, e.g. curlimages/curl) uploads them when the
   * task ends. `graceSeconds` sets the pod's terminationGracePeriodSeconds, the time the upload
   * has after the task's end (the kubelet's default, 30, when unset). Needed only by tasks that
   * declare `artifacts:` with an object store configured; such a task fails without it.
   */
  artifactUpload?: { image: string; graceSeconds?: number };
  /**
   * Requests and limits of the runner's own init and sidecar containers (source fetch, artifact
   * fetch, keep upload); default job-spec.ts's HELPER_RESOURCES.
   */
  helperResources?: Pick<KubernetesResourceClass, 'requests' | 'limits'>;
  /**
   * Capacity flavors other than on-demand (ADR-051: `spot`), as the node selector and tolerations
   * a pod of that flavor gets on top of its resource class's. A request naming a flavor not here
   * is refused (`flavor_not_configured`), so the engine re-attempts it on on-demand.
   */
  flavors?: Record<string, Pick<KubernetesResourceClass, 'nodeSelector' | 'tolerations'>>;
}

export function validateKubernetesConfig(config: KubernetesRunnerConfig): void {
  const fail = (message: string, hint?: string): never => {
    throw new InputError('runner_config_invalid', `kubernetes runner: ${message}`, hint ? { hint } : {});
  };
  if (!config.defaultImage) fail('`defaultImage` is required');
  if (Object.keys(config.namespaces ?? {}).length === 0)
    fail(
      '`namespaces` must map at least one manifest namespace',
      'e.g. namespaces: { default: maestro-runs }',
    );
  validateClusters(config);
  if (config.network !== undefined && config.network !== 'on' && config.network !== 'none')
    fail('`network` must be `on` or `none`');
  const upload = config.artifactUpload;
  if (upload !== undefined && (typeof upload.image !== 'string' || upload.image === ''))
    fail('`artifactUpload.image` must name an image with sh, tar and curl');
  if (
    upload?.graceSeconds !== undefined &&
    !(Number.isInteger(upload.graceSeconds) && upload.graceSeconds > 0)
  )
    fail('`artifactUpload.graceSeconds` must be a positive integer');
  for (const [name, flavor] of Object.entries(config.flavors ?? {})) {
    if (typeof flavor !== 'object' || flavor === null || Array.isArray(flavor))
      fail(`\`flavors.${name}\` must be a mapping with nodeSelector and/or tolerations`);
    if (flavor.tolerations !== undefined && !Array.isArray(flavor.tolerations))
      fail(`\`flavors.${name}.tolerations\` must be a list`);
  }
  if (config.runAsUser !== undefined && !(Number.isInteger(config.runAsUser) && config.runAsUser > 0))
    fail('`runAsUser` must be a positive integer (the restricted profile forbids root)');
}
