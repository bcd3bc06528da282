/**
 * Builds the Job for one attempt. The name is a pure function of (run, task, attempt), so a
 * re-create after a crash hits AlreadyExists instead of starting a duplicate. The pod meets the
 * restricted Pod Security profile: non-root, no privilege escalation, all capabilities dropped,
 * seccomp RuntimeDefault, read-only root filesystem with emptyDir volumes for /tmp and the work dir,
 * and no service-account token unless the resource class asks for one.
 */
import { createHash } from 'node:crypto';
import type { V1Job } from '@kubernetes/client-node';
import { resolveNetwork, type AttemptRef, type RunnerStartRequest } from '../../core/index.ts';
import type { KubernetesResourceClass, KubernetesRunnerConfig } from './config.ts';
import { secretNameOf, splitSecrets } from './job-secret.ts';
import { artifactsInitContainer } from './artifacts-init.ts';
import { keepSidecar } from './artifacts-keep.ts';
import { sourceInitContainer } from './source-init.ts';

export const LABEL_RUN = 'maestro.dev/run-id';
export const LABEL_TASK = 'maestro.dev/task-id';
export const LABEL_ATTEMPT = 'maestro.dev/attempt';
export const LABEL_NAMESPACE = 'maestro.dev/namespace';
/**
 * Set to `none` on the pods of attempts that must have no network (untrusted runs, tasks that say
 * `network: none`, or `network: none` in the runner's config); the default-deny NetworkPolicy
 * shipped under deploy/kubernetes/ selects it (docs/runners.md, "Network").
 */
export const LABEL_NETWORK = 'maestro.dev/network';
export const LABEL_MANAGED = 'app.kubernetes.io/managed-by';
export const ANNOTATION_ATTEMPT_ID = 'maestro.dev/attempt-id';
export const ANNOTATION_RUN_ID = 'maestro.dev/run-id';
export const ANNOTATION_TASK_ID = 'maestro.dev/task-id';
export const CONTAINER_NAME = 'task';
export const TERMINATION_LOG = '/dev/termination-log';
const WORK_DIR = '/maestro/work';

/**
 * The runner's own containers (source fetch, artifact fetch, keep upload) get small fixed
 * requests and limits, so a pod's footprint is known to the scheduler and bounded on the node;
 * `helperResources` in the runner config replaces them (a large repository's clone may need more
 * memory). The ephemeral-storage limit covers their writable layer and logs only: what they fetch
 * goes to the pod's emptyDir volumes, bounded by the pod's total (the sum of its containers').
 */
export const HELPER_RESOURCES: NonNullable<KubernetesRunnerConfig['helperResources']> = {
  requests: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '64Mi' },
  limits: { cpu: '1', memory: '512Mi', 'ephemeral-storage': '1Gi' },
};

/**
 * The task container's ephemeral storage when its resource class names none: the workspace and
 * /tmp are emptyDir volumes on the node, so without a bound one task could fill the node's disk.
 * A class that sets `ephemeral-storage` (request or limit) keeps exactly what it sets.
 */
export const DEFAULT_TASK_EPHEMERAL_STORAGE = { request: '256Mi', limit: '16Gi' };

function taskResources(resourceClass: KubernetesResourceClass) {
  const named =
    resourceClass.requests?.['ephemeral-storage'] !== undefined ||
    resourceClass.limits?.['ephemeral-storage'] !== undefined;
  const storage = (key: 'request' | 'limit') =>
    named ? {} : { 'ephemeral-storage': DEFAULT_TASK_EPHEMERAL_STORAGE[key] };
  return {
    requests: { ...resourceClass.requests, ...storage('request') },
    limits: { ...resourceClass.limits, ...storage('limit') },
  };
}
const ARTIFACTS_DIR = '/maestro/artifacts';

/** Job names become pod-name prefixes (plus 6 chars), so they stay within 52 characters. */
const MAX_NAME = 52;

function dns1123(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

/** `m-<run>-<task>-<attempt>-<hash>`: readable, DNS-1123, and unique through a hash of all three ids. */
export function jobName(ref: Pick<AttemptRef, 'runId' | 'taskId' | 'attempt'>): string {
  const hash = createHash('sha256')
    .update(`${ref.runId}\u0000${ref.taskId}\u0000${ref.attempt}`)
    .digest('hex')
    .slice(0, 10);
  const suffix = `-a${ref.attempt}-${hash}`;
  const room = MAX_NAME - 2 - suffix.length;
  const readable = dns1123(`${ref.runId}-${ref.taskId}`).slice(0, room).replace(/-$/, '');
  return `m-${readable}${suffix}`.replace(/^m--/, 'm-');
}

/** Label values are limited to 63 chars of [A-Za-z0-9_.-]; long ids are hashed (the annotation keeps the original). */
export function labelValue(value: string): string {
  const clean = value.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (clean === value && value.length <= 63) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 12);
  return `${clean.slice(0, 50).replace(/[^A-Za-z0-9]+$/, '')}-${hash}`.replace(/^-/, 'h');
}

export function attemptLabels(ref: AttemptRef, manifestNamespace: string): Record<string, string> {
  return {
    [LABEL_MANAGED]: 'summit-maestro',
    [LABEL_RUN]: labelValue(ref.runId),
    [LABEL_TASK]: labelValue(ref.taskId),
    [LABEL_ATTEMPT]: String(ref.attempt),
    [LABEL_NAMESPACE]: labelValue(manifestNamespace),
  };
}

function commandOf(request: RunnerStartRequest): { command?: string[]; args?: string[]; image?: string } {
  const c = request.command;
  if (c.kind === 'shell') return { command: ['/bin/sh', '-c', c.script] };
  if (c.kind === 'argv') return { command: c.argv };
  return {
    image: c.image,
    ...(c.command ? { command: c.command } : {}),
    ...(c.args ? { args: c.args } : {}),
  };
}

export function buildJob(
  request: RunnerStartRequest,
  k8sNamespace: string,
  resourceClass: KubernetesResourceClass,
  config: KubernetesRunnerConfig,
): V1Job {
  return buildAttempt(request, k8sNamespace, resourceClass, config).job;
}

/**
 * The Job, and the values its per-attempt Secret must hold (job-secret.ts). A Job that needs a
 * Secret is created suspended; the runner creates the Secret, owned by the Job, then resumes it.
 */
export function buildAttempt(
  request: RunnerStartRequest,
  k8sNamespace: string,
  resourceClass: KubernetesResourceClass,
  config: KubernetesRunnerConfig,
): { job: V1Job; secretName: string; secretData: Record<string, string> } {
  const name = jobName(request);
  const labels = attemptLabels(request, request.namespace);
  const podLabels =
    resolveNetwork(request, config.network) === 'none' ? { ...labels, [LABEL_NETWORK]: 'none' } : labels;
  const annotations = {
    [ANNOTATION_ATTEMPT_ID]: request.attemptId,
    [ANNOTATION_RUN_ID]: request.runId,
    [ANNOTATION_TASK_ID]: request.taskId,
  };
  const { image: commandImage, ...plainCmd } = commandOf(request);
  const uid = config.runAsUser ?? 1000;
  const env = {
    ...request.env,
    MAESTRO_OUTPUT: TERMINATION_LOG,
    MAESTRO_ARTIFACTS: ARTIFACTS_DIR,
    HOME: '/tmp',
  };
  const mountToken = resourceClass.mountServiceAccountToken === true;
  const secretName = secretNameOf(name);
  const { env: envVars, data: taskSecrets, ...cmd } = splitSecrets(request, env, plainCmd, secretName);
  const image = commandImage ?? request.image ?? config.defaultImage;
  const containerSecurity = {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
  const inputs = request.received?.length
    ? artifactsInitContainer(request.received, image, ARTIFACTS_DIR, secretName, containerSecurity)
    : undefined;
  const keep = request.keep
    ? keepSidecar(request.keep, config.artifactUpload?.image, WORK_DIR, secretName, containerSecurity)
    : undefined;
  const fetched = request.source
    ? sourceInitContainer(
        request.source,
        config,
        WORK_DIR,
        containerSecurity,
        request.sourceHeader ? { header: request.sourceHeader, secretName } : undefined,
      )
    : undefined;
  const secretData = {
    ...taskSecrets,
    ...fetched?.secretData,
    ...inputs?.secretData,
    ...keep?.secretData,
  };
  const suspended = Object.keys(secretData).length > 0;
  // The sidecar comes last: it starts once the other init containers have finished.
  const helperResources = config.helperResources ?? HELPER_RESOURCES;
  const initContainers = [
    ...(fetched ? [fetched.container] : []),
    ...(inputs ? [inputs.container] : []),
    ...(keep ? [keep.container] : []),
  ].map((container) => ({ ...container, resources: structuredClone(helperResources) }));
  const grace = keep ? config.artifactUpload?.graceSeconds : undefined;
  const job: V1Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: k8sNamespace, labels, annotations },
    spec: {
      backoffLimit: 0, // the engine owns retries
      ...(suspended ? { suspend: true } : {}),
      ttlSecondsAfterFinished: config.ttlSecondsAfterFinished ?? 3600,
      ...(request.timeoutMs !== undefined
        ? { activeDeadlineSeconds: Math.max(1, Math.ceil(request.timeoutMs / 1000)) }
        : {}),
      template: {
        metadata: { labels: podLabels, annotations: { ...resourceClass.annotations, ...annotations } },
        spec: {
          restartPolicy: 'Never',
          ...(grace !== undefined ? { terminationGracePeriodSeconds: grace } : {}),
          automountServiceAccountToken: mountToken,
          ...(resourceClass.serviceAccountName
            ? { serviceAccountName: resourceClass.serviceAccountName }
            : {}),
          ...(resourceClass.nodeSelector ? { nodeSelector: resourceClass.nodeSelector } : {}),
          ...(resourceClass.tolerations ? { tolerations: resourceClass.tolerations } : {}),
          securityContext: {
            runAsNonRoot: true,
            runAsUser: uid,
            runAsGroup: uid,
            fsGroup: uid,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...(initContainers.length > 0 ? { initContainers } : {}),
          containers: [
            {
              name: CONTAINER_NAME,
              image,
              ...(config.imagePullPolicy ? { imagePullPolicy: config.imagePullPolicy } : {}),
              ...cmd,
              workingDir: WORK_DIR,
              env: envVars,
              resources: taskResources(resourceClass),
              terminationMessagePath: TERMINATION_LOG,
              terminationMessagePolicy: 'File',
              securityContext: containerSecurity,
              volumeMounts: [
                { name: 'tmp', mountPath: '/tmp' },
                { name: 'work', mountPath: WORK_DIR },
                // What the task receives is read-only, as on every runner.
                { name: 'artifacts', mountPath: ARTIFACTS_DIR, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: 'tmp', emptyDir: {} },
            { name: 'work', emptyDir: {} },
            { name: 'artifacts', emptyDir: {} },
            ...(keep ? [{ name: 'keep', emptyDir: {} }] : []),
          ],
        },
      },
    },
  };
  return { job, secretName, secretData };
}
