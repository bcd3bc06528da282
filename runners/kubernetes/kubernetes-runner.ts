/**
 * The Kubernetes Jobs runner: one Job per attempt, on the cluster and in the Kubernetes namespace
 * the operator's mappings place the task in (placement.ts). A re-create after a crash hits
 * AlreadyExists and attaches to the existing Job (checked to be the same attempt) instead of
 * starting a duplicate; a resuming engine re-attaches on the cluster recorded with the attempt.
 */
import type { KubeConfig, V1Job } from '@kubernetes/client-node';
import {
  AttemptOutcome,
  systemClock,
  type AttemptImage,
  type AttemptRef,
  type Clock,
  type ImageGate,
  type Runner,
  type ReattachKnown,
  type RunnerHandle,
  type RunnerStartRequest,
} from '../../core/index.ts';
import { LogChannel, imageCheckOf, pinImage, requestedImage, withImage } from '../shared/index.ts';
import { createRedactor } from '../../core/index.ts';
import { AttemptTracker, type KubernetesRunnerStats } from './attempt-tracker.ts';
import { clustersOf } from './clusters.ts';
import { connectClusters, loadClusterKubeConfig, type ClusterConnection } from './cluster-connection.ts';
import {
  validateKubernetesConfig,
  type KubernetesResourceClass,
  type KubernetesRunnerConfig,
} from './config.ts';
import { ANNOTATION_ATTEMPT_ID, attemptLabels, buildAttempt, jobName } from './job-spec.ts';
import { buildTaskSecret } from './job-secret.ts';
import { placeTask } from './placement.ts';

export interface KubernetesRunnerDeps {
  clock?: Clock;
  /** A ready KubeConfig (tests, or a caller that already loaded one). Overrides `config.kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** Ready KubeConfigs by cluster name (with `clusters`); each overrides that cluster's settings. */
  kubeConfigs?: Record<string, KubeConfig>;
  /** Counters the runner increments (requests, watches, 410 re-lists), for benches and tests. */
  stats?: KubernetesRunnerStats;
  /** The operator's image policy: when set, every image is verified and the Job runs its digest. */
  imageGate?: ImageGate;
}

/**
 * Reattach may be given the manifest namespace and resource class (a RunnerStartRequest is an
 * AttemptRef with them), to find the Job where that task is placed.
 */
export type KubernetesAttemptRef = AttemptRef & { namespace?: string; resources?: string };

/** `ci-payments on cluster east`, or just the namespace with one cluster. */
function where(ctx: ClusterConnection, namespace: string): string {
  return ctx.config.clusters ? `${namespace} on cluster ${ctx.name}` : namespace;
}

/** The KubeConfig of the section's default cluster (the only one without `clusters`). */
export function loadKubeConfig(config: KubernetesRunnerConfig): KubeConfig {
  const clusters = clustersOf(config);
  return loadClusterKubeConfig(clusters.get(config.defaultCluster ?? [...clusters.keys()][0]!)!);
}

/** The API server's own message (its Status body), not the client's wrapper text. */
function apiMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  if (typeof body === 'string') {
    try {
      const status = JSON.parse(body) as { message?: unknown };
      if (typeof status.message === 'string') return status.message;
    } catch {
      // not JSON: fall through to the error's message
    }
  }
  return (error as Error).message;
}

function errorCode(error: unknown): number | undefined {
  return (error as { code?: number }).code;
}

export function createKubernetesRunner(
  config: KubernetesRunnerConfig,
  deps: KubernetesRunnerDeps = {},
): Runner {
  validateKubernetesConfig(config);
  const clock = deps.clock ?? systemClock;
  const stats: KubernetesRunnerStats = deps.stats ?? {
    requests: 0,
    watch: { lists: 0, watches: 0, gone: 0 },
  };
  const given = {
    ...(deps.kubeConfig && !config.clusters ? { default: deps.kubeConfig } : {}),
    ...deps.kubeConfigs,
  };
  const clusters = connectClusters(config, { clock, stats }, given);
  const active = new Set<AttemptTracker>();

  function track(
    ctx: ClusterConnection,
    namespace: string,
    job: V1Job,
    request: { outputs: string[]; redact: string[] },
  ): AttemptTracker {
    const tracker: AttemptTracker = new AttemptTracker(
      ctx,
      {
        namespace,
        job,
        outputs: request.outputs,
        redact: createRedactor(request.redact),
        startedAt: clock.now(),
      },
      () => active.delete(tracker),
    );
    active.add(tracker);
    tracker.begin(ctx.hubFor(namespace));
    return tracker;
  }

  function failed(
    reason: string,
    message: string,
    retryable: boolean,
    redact: string[],
    image?: AttemptImage,
  ): RunnerHandle {
    const now = clock.now();
    const text = createRedactor(redact)(message);
    const logs = new LogChannel();
    logs.push({ stream: 'system', text, time: now });
    logs.close();
    const result = {
      outcome: AttemptOutcome.runnerError,
      exitCode: null,
      retryable,
      reason,
      message: text,
      outputs: {},
      startedAt: now,
      finishedAt: now,
      ...(image ? { image } : {}),
    };
    return { logs: () => logs, wait: async () => result, cancel: async () => {} };
  }

  /** Reads a Job by the attempt's name; returns it only if it belongs to this very attempt. */
  async function readOwnJob(
    ctx: ClusterConnection,
    namespace: string,
    ref: AttemptRef,
  ): Promise<V1Job | 'conflict' | undefined> {
    try {
      stats.requests += 1;
      const job = await ctx.batch.readNamespacedJob({ name: jobName(ref), namespace });
      return job.metadata?.annotations?.[ANNOTATION_ATTEMPT_ID] === ref.attemptId ? job : 'conflict';
    } catch (error) {
      if (errorCode(error) === 404) return undefined;
      throw error;
    }
  }

  /** Verified before the Job exists; the Job then names the digest, never the tag. */
  async function start(original: RunnerStartRequest): Promise<RunnerHandle> {
    if (!deps.imageGate) return startJob(original);
    const named = requestedImage(original, config.defaultImage);
    const checked = await deps.imageGate.check(imageCheckOf(original, named));
    if (!checked.allowed)
      return failed(
        checked.reason,
        `image ${named} refused (${checked.reason}): ${checked.message}`,
        checked.retryable,
        original.redact,
        checked.image,
      );
    const image = checked.image.verification === 'unchecked' ? undefined : checked.image;
    return withImage(await startJob(pinImage(original, checked.pinned)), image);
  }

  async function startJob(original: RunnerStartRequest): Promise<RunnerHandle> {
    // The presigned URLs are capabilities: the pod's log is redacted of them too.
    const urls = [
      ...(original.received ?? []).map((r) => r.url),
      ...(original.keep ? [original.keep.url] : []),
    ];
    const request = urls.length > 0 ? { ...original, redact: [...original.redact, ...urls] } : original;
    const answer = placeTask(config, request);
    if ('refused' in answer)
      return failed(answer.refused.reason, answer.refused.message, false, request.redact);
    const namespace = answer.placement.namespace;
    const ctx = clusters.get(answer.placement.cluster)!;
    const resourceClass = withFlavor(config.resourceClasses[request.resources]!, config, request.flavor);
    if (resourceClass === undefined)
      return failed(
        'flavor_not_configured',
        `flavor ${request.flavor} is not in this runner's \`flavors\` (docs/runners.md): refused, so the task runs on on-demand`,
        false,
        request.redact,
      );
    const { job: body, secretName, secretData } = buildAttempt(request, namespace, resourceClass, config);
    const secret = Object.keys(secretData).length > 0 ? { name: secretName, data: secretData } : undefined;
    try {
      stats.requests += 1;
      const job = await ctx.batch.createNamespacedJob({ namespace, body });
      if (secret) await provideSecret(ctx, namespace, job, request, secret);
      return track(ctx, namespace, job, request);
    } catch (error) {
      const code = errorCode(error);
      if (code === 409) {
        // Same name: a Job for this attempt already exists (we crashed after creating it). Attach.
        const existing = await readOwnJob(ctx, namespace, request).catch(() => undefined);
        if (existing && existing !== 'conflict') {
          // A crash between creating the Job and resuming it leaves it suspended: finish that.
          if (secret && existing.spec?.suspend)
            await provideSecret(ctx, namespace, existing, request, secret).catch(() => {});
          return track(ctx, namespace, existing, request);
        }
        return failed(
          'NameConflict',
          `Job ${body.metadata!.name} exists in ${where(ctx, namespace)} but belongs to a different attempt`,
          false,
          request.redact,
        );
      }
      const retryable = code === undefined || code === 429 || code >= 500;
      const reason = code === 403 ? 'Forbidden' : code === 422 ? 'Invalid' : 'ApiError';
      const message = apiMessage(error);
      return failed(
        reason,
        `could not create Job in ${where(ctx, namespace)}: ${message}`,
        retryable,
        request.redact,
      );
    }
  }

  /**
   * Creates the attempt's Secret, owned by its Job (the garbage collector deletes it with the
   * Job), then resumes the Job, which was created suspended so that no pod starts without it.
   * If either step fails the Job is deleted: no half-made attempt is left behind.
   */
  async function provideSecret(
    ctx: ClusterConnection,
    namespace: string,
    job: V1Job,
    request: RunnerStartRequest,
    secret: { name: string; data: Record<string, string> },
  ): Promise<void> {
    const owner = { name: job.metadata!.name!, uid: job.metadata!.uid! };
    const body = buildTaskSecret(
      secret.name,
      namespace,
      attemptLabels(request, request.namespace),
      owner,
      secret.data,
    );
    try {
      stats.requests += 1;
      await ctx.core.createNamespacedSecret({ namespace, body }).catch((error: unknown) => {
        if (errorCode(error) !== 409) throw error; // 409: made before a crash; the same values
      });
      stats.requests += 1;
      await ctx.batch.patchNamespacedJob({
        name: owner.name,
        namespace,
        body: [{ op: 'replace', path: '/spec/suspend', value: false }],
      });
    } catch (error) {
      stats.requests += 1;
      await ctx.batch
        .deleteNamespacedJob({ name: owner.name, namespace, propagationPolicy: 'Background' })
        .catch(() => {});
      throw error;
    }
  }

  /**
   * Where to look for an attempt's Job: the cluster and namespace recorded when it started; else
   * (an attempt recorded before placements were) its placement under today's config; else, with
   * no manifest namespace either, every mapped namespace on every cluster.
   */
  function reattachPlaces(ref: KubernetesAttemptRef, known?: ReattachKnown): [ClusterConnection, string][] {
    const recorded = known?.placement;
    if (recorded) {
      const ctx = clusters.get(recorded.cluster);
      return ctx && recorded.namespace ? [[ctx, recorded.namespace]] : [];
    }
    if (ref.namespace && ref.resources) {
      const answer = placeTask(config, { namespace: ref.namespace, resources: ref.resources });
      if ('placement' in answer)
        return [[clusters.get(answer.placement.cluster)!, answer.placement.namespace!]];
    }
    const mapped = ref.namespace
      ? [config.namespaces[ref.namespace]].filter((n) => n !== undefined)
      : Object.values(config.namespaces);
    const names = [...new Set(mapped.map((n) => (typeof n === 'string' ? n : n.namespace)))];
    return [...clusters.values()].flatMap((ctx) => names.map((n): [ClusterConnection, string] => [ctx, n]));
  }

  async function reattach(
    ref: KubernetesAttemptRef,
    known?: ReattachKnown,
  ): Promise<RunnerHandle | undefined> {
    for (const [ctx, namespace] of reattachPlaces(ref, known)) {
      const job = await readOwnJob(ctx, namespace, ref);
      if (job && job !== 'conflict' && job.spec?.suspend) {
        // Never resumed (a crash before its Secret was made), and the secret values are not
        // known here: remove it; the engine closes the attempt as interrupted and retries.
        stats.requests += 1;
        await ctx.batch
          .deleteNamespacedJob({ name: job.metadata!.name!, namespace, propagationPolicy: 'Background' })
          .catch(() => {});
        return undefined;
      }
      if (job && job !== 'conflict')
        return track(ctx, namespace, job, { outputs: known?.outputs ?? [], redact: known?.redact ?? [] });
    }
    return undefined;
  }

  function place(task: { resources: string; namespace: string }) {
    return placeTask(config, task);
  }

  return {
    kind: 'kubernetes',
    fetchesReceived: true,
    uploadsKept: true,
    // The pod spec (job-spec.ts) is never privileged and never on the host network: the runner
    // has no setting for either, so the policy input says false truthfully.
    // The cluster is what the task's placement says (absent when it cannot be placed: the run is
    // refused before policy is asked).
    posture: (task) => {
      const answer = placeTask(config, task);
      return {
        privileged: false,
        hostNetwork: false,
        ...('placement' in answer ? { cluster: answer.placement.cluster } : {}),
      };
    },
    place,
    start,
    reattach,
    close: async () => {
      for (const tracker of [...active]) tracker.detach();
      for (const ctx of clusters.values()) ctx.stop();
    },
  };
}

/**
 * The resource class with the flavor's node selector and tolerations added (ADR-051); the class
 * itself for on-demand (no flavor); undefined for a flavor the operator did not configure.
 */
function withFlavor(
  rc: KubernetesResourceClass,
  config: KubernetesRunnerConfig,
  flavor: string | undefined,
): KubernetesResourceClass | undefined {
  if (flavor === undefined) return rc;
  const f = Object.hasOwn(config.flavors ?? {}, flavor) ? config.flavors![flavor] : undefined;
  if (!f) return undefined;
  const nodeSelector = { ...rc.nodeSelector, ...f.nodeSelector };
  const tolerations = [...(rc.tolerations ?? []), ...(f.tolerations ?? [])];
  return {
    ...rc,
    ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
    ...(tolerations.length ? { tolerations } : {}),
  };
}
