/**
 * The Kubernetes Jobs runner: one Job per attempt in the Kubernetes namespace the operator mapped
 * the manifest's namespace to. A re-create after a crash hits AlreadyExists and attaches to the
 * existing Job (checked to be the same attempt) instead of starting a duplicate.
 */
import type { KubeConfig, V1Job } from '@kubernetes/client-node';
import { kubernetesClient } from './client-library.ts';
import {
  AttemptOutcome,
  systemClock,
  type AttemptRef,
  type Clock,
  type Runner,
  type ReattachKnown,
  type RunnerHandle,
  type RunnerStartRequest,
} from '../../core/index.ts';
import { LogChannel } from '../shared/index.ts';
import { createRedactor } from '../../core/index.ts';
import { AttemptTracker, type KubernetesRunnerStats } from './attempt-tracker.ts';
import { validateKubernetesConfig, type KubernetesRunnerConfig } from './config.ts';
import { ANNOTATION_ATTEMPT_ID, attemptLabels, buildAttempt, jobName } from './job-spec.ts';
import { buildTaskSecret } from './job-secret.ts';
import { NamespaceWatchHub } from './watch-hub.ts';

export interface KubernetesRunnerDeps {
  clock?: Clock;
  /** A ready KubeConfig (tests, or a caller that already loaded one). Overrides `config.kubeconfig`. */
  kubeConfig?: KubeConfig;
  /** Counters the runner increments (requests, watches, 410 re-lists), for benches and tests. */
  stats?: KubernetesRunnerStats;
}

/** Reattach may be given the manifest namespace (a RunnerStartRequest is an AttemptRef with it). */
export type KubernetesAttemptRef = AttemptRef & { namespace?: string };

export function loadKubeConfig(config: KubernetesRunnerConfig): KubeConfig {
  const kc = new (kubernetesClient().KubeConfig)();
  if (config.kubeconfig) {
    kc.loadFromFile(config.kubeconfig);
    if (config.context) kc.setCurrentContext(config.context);
  } else kc.loadFromCluster();
  return kc;
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
  const kubeConfig = deps.kubeConfig ?? loadKubeConfig(config);
  const clock = deps.clock ?? systemClock;
  const stats: KubernetesRunnerStats = deps.stats ?? {
    requests: 0,
    watch: { lists: 0, watches: 0, gone: 0 },
  };
  const ctx = {
    kubeConfig,
    batch: kubeConfig.makeApiClient(kubernetesClient().BatchV1Api),
    core: kubeConfig.makeApiClient(kubernetesClient().CoreV1Api),
    config,
    clock,
    stats,
  };
  const active = new Set<AttemptTracker>();
  const hubs = new Map<string, NamespaceWatchHub>();
  const hubFor = (namespace: string): NamespaceWatchHub => {
    let hub = hubs.get(namespace);
    if (!hub) hubs.set(namespace, (hub = new NamespaceWatchHub(ctx, namespace)));
    return hub;
  };

  function track(
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
    tracker.begin(hubFor(namespace));
    return tracker;
  }

  function failed(reason: string, message: string, retryable: boolean, redact: string[]): RunnerHandle {
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
    };
    return { logs: () => logs, wait: async () => result, cancel: async () => {} };
  }

  /** Reads a Job by the attempt's name; returns it only if it belongs to this very attempt. */
  async function readOwnJob(namespace: string, ref: AttemptRef): Promise<V1Job | 'conflict' | undefined> {
    try {
      stats.requests += 1;
      const job = await ctx.batch.readNamespacedJob({ name: jobName(ref), namespace });
      return job.metadata?.annotations?.[ANNOTATION_ATTEMPT_ID] === ref.attemptId ? job : 'conflict';
    } catch (error) {
      if (errorCode(error) === 404) return undefined;
      throw error;
    }
  }

  async function start(original: RunnerStartRequest): Promise<RunnerHandle> {
    // The presigned URLs are capabilities: the pod's log is redacted of them too.
    const urls = [
      ...(original.received ?? []).map((r) => r.url),
      ...(original.keep ? [original.keep.url] : []),
    ];
    const request = urls.length > 0 ? { ...original, redact: [...original.redact, ...urls] } : original;
    const namespace = config.namespaces[request.namespace];
    if (!namespace)
      return failed(
        'NamespaceNotMapped',
        `manifest namespace ${JSON.stringify(request.namespace)} is not mapped to a Kubernetes namespace`,
        false,
        request.redact,
      );
    const resourceClass = config.resourceClasses[request.resources];
    if (!resourceClass)
      return failed(
        'UnknownResourceClass',
        `resource class ${JSON.stringify(request.resources)} is not configured for the kubernetes runner`,
        false,
        request.redact,
      );
    const { job: body, secretName, secretData } = buildAttempt(request, namespace, resourceClass, config);
    const secret = Object.keys(secretData).length > 0 ? { name: secretName, data: secretData } : undefined;
    try {
      stats.requests += 1;
      const job = await ctx.batch.createNamespacedJob({ namespace, body });
      if (secret) await provideSecret(namespace, job, request, secret);
      return track(namespace, job, request);
    } catch (error) {
      const code = errorCode(error);
      if (code === 409) {
        // Same name: a Job for this attempt already exists (we crashed after creating it). Attach.
        const existing = await readOwnJob(namespace, request).catch(() => undefined);
        if (existing && existing !== 'conflict') {
          // A crash between creating the Job and resuming it leaves it suspended: finish that.
          if (secret && existing.spec?.suspend)
            await provideSecret(namespace, existing, request, secret).catch(() => {});
          return track(namespace, existing, request);
        }
        return failed(
          'NameConflict',
          `Job ${body.metadata!.name} exists in ${namespace} but belongs to a different attempt`,
          false,
          request.redact,
        );
      }
      const retryable = code === undefined || code === 429 || code >= 500;
      const reason = code === 403 ? 'Forbidden' : code === 422 ? 'Invalid' : 'ApiError';
      const message = apiMessage(error);
      return failed(reason, `could not create Job in ${namespace}: ${message}`, retryable, request.redact);
    }
  }

  /**
   * Creates the attempt's Secret, owned by its Job (the garbage collector deletes it with the
   * Job), then resumes the Job, which was created suspended so that no pod starts without it.
   * If either step fails the Job is deleted: no half-made attempt is left behind.
   */
  async function provideSecret(
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

  async function reattach(
    ref: KubernetesAttemptRef,
    known?: ReattachKnown,
  ): Promise<RunnerHandle | undefined> {
    const namespaces = ref.namespace
      ? [config.namespaces[ref.namespace]].filter((n): n is string => n !== undefined)
      : [...new Set(Object.values(config.namespaces))];
    for (const namespace of namespaces) {
      const job = await readOwnJob(namespace, ref);
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
        return track(namespace, job, { outputs: known?.outputs ?? [], redact: known?.redact ?? [] });
    }
    return undefined;
  }

  return {
    kind: 'kubernetes',
    fetchesReceived: true,
    uploadsKept: true,
    // The pod spec (job-spec.ts) is never privileged and never on the host network: the runner
    // has no setting for either, so the policy input says false truthfully.
    posture: () => ({ privileged: false, hostNetwork: false }),
    start,
    reattach,
    close: async () => {
      for (const tracker of [...active]) tracker.detach();
      for (const hub of hubs.values()) hub.stop();
      hubs.clear();
    },
  };
}
