/**
 * Maps what the cluster says about a Job and its pod to an attempt outcome. Pure functions: the
 * runner feeds them the latest objects from its watches. Retryability comes from the failure's
 * class (reasons and conditions), never from message text.
 */
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { AttemptOutcome } from '../../core/index.ts';
import { deadlineExceeded, nonZeroExit, oomKilled } from '../shared/index.ts';
import { CONTAINER_NAME } from './job-spec.ts';

export interface Verdict {
  outcome: AttemptOutcome;
  exitCode: number | null;
  retryable: boolean;
  reason?: string;
  message?: string;
  /** The container's termination message (our outputs channel), if any. */
  terminationMessage?: string;
}

/** Waiting reasons that mean the container will never start without a change. */
const PULL_RETRYABLE = new Set(['ErrImagePull', 'ImagePullBackOff']);
const FATAL_WAITING = new Set(['InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError']);

function condition(job: V1Job, type: string) {
  return job.status?.conditions?.find((c) => c.type === type && c.status === 'True');
}

function terminated(pod: V1Pod | undefined) {
  return pod?.status?.containerStatuses?.find((s) => s.name === CONTAINER_NAME)?.state?.terminated;
}

/** A verdict once the Job is finished (Complete or Failed), else undefined. */
export function classifyJob(job: V1Job, pod: V1Pod | undefined): Verdict | undefined {
  const term = terminated(pod);
  const base = {
    exitCode: term?.exitCode ?? null,
    ...(term?.message ? { terminationMessage: term.message } : {}),
  };
  if (condition(job, 'Complete')) return { outcome: AttemptOutcome.succeeded, retryable: false, ...base };
  const failed = condition(job, 'Failed');
  if (!failed) return undefined;
  if (failed.reason === 'DeadlineExceeded')
    return { ...deadlineExceeded(failed.message ?? 'the Job exceeded activeDeadlineSeconds'), ...base };
  if (term?.reason === 'OOMKilled') return { ...oomKilled(), ...base };
  if (pod?.status?.reason === 'Evicted')
    return {
      outcome: AttemptOutcome.failed,
      retryable: true,
      reason: 'Evicted',
      message: pod.status.message ?? 'the pod was evicted',
      ...base,
    };
  if (term) return { ...nonZeroExit(term.exitCode, term.reason), ...base };
  return {
    outcome: AttemptOutcome.failed,
    retryable: true,
    reason: failed.reason ?? 'JobFailed',
    message: failed.message ?? 'the Job failed before its container ran',
    ...base,
  };
}

/**
 * A verdict for a pod stuck before running: image pull failures and bad container config end the
 * attempt at once; unschedulable ends it after `unschedulableForMs` has passed `limitMs`.
 */
export function classifyStuckPod(pod: V1Pod, nowMs: number, limitMs: number): Verdict | undefined {
  const waiting = pod.status?.containerStatuses?.find((s) => s.name === CONTAINER_NAME)?.state?.waiting;
  if (waiting?.reason && (PULL_RETRYABLE.has(waiting.reason) || FATAL_WAITING.has(waiting.reason)))
    return {
      outcome: AttemptOutcome.failed,
      exitCode: null,
      retryable: PULL_RETRYABLE.has(waiting.reason),
      reason: waiting.reason,
      message: waiting.message ?? waiting.reason,
    };
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    const since = scheduled.lastTransitionTime ? new Date(scheduled.lastTransitionTime).getTime() : nowMs;
    const created = pod.metadata?.creationTimestamp
      ? new Date(pod.metadata.creationTimestamp).getTime()
      : since;
    if (nowMs - Math.min(since, created) >= limitMs)
      return {
        outcome: AttemptOutcome.failed,
        exitCode: null,
        retryable: true,
        reason: 'Unschedulable',
        message: scheduled.message ?? 'no node can run the pod',
      };
  }
  return undefined;
}
