import { describe, expect, it } from 'vitest';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { classifyJob, classifyStuckPod } from './classify.ts';

const job = (type: string, reason?: string): V1Job => ({
  status: { conditions: [{ type, status: 'True', ...(reason ? { reason } : {}) }] },
});
const podTerminated = (exitCode: number, reason: string, message?: string): V1Pod => ({
  status: {
    containerStatuses: [
      {
        name: 'task',
        image: 'i',
        imageID: '',
        ready: false,
        restartCount: 0,
        state: { terminated: { exitCode, reason, ...(message ? { message } : {}) } },
      },
    ],
  },
});

describe('classifyJob', () => {
  it('is undefined while the Job has no terminal condition', () => {
    expect(classifyJob({ status: { active: 1 } }, undefined)).toBeUndefined();
    expect(classifyJob(job('FailureTarget'), undefined)).toBeUndefined();
  });
  it('maps Complete, DeadlineExceeded, OOMKilled, non-zero exit and eviction', () => {
    expect(classifyJob(job('Complete'), podTerminated(0, 'Completed', 'a=1'))).toMatchObject({
      outcome: 'succeeded',
      exitCode: 0,
      terminationMessage: 'a=1',
    });
    expect(classifyJob(job('Failed', 'DeadlineExceeded'), undefined)).toMatchObject({
      outcome: 'timed_out',
      retryable: true,
    });
    expect(classifyJob(job('Failed', 'BackoffLimitExceeded'), podTerminated(137, 'OOMKilled'))).toMatchObject(
      {
        outcome: 'failed',
        reason: 'OOMKilled',
        retryable: false,
      },
    );
    expect(classifyJob(job('Failed', 'BackoffLimitExceeded'), podTerminated(2, 'Error'))).toMatchObject({
      reason: 'NonZeroExit',
      exitCode: 2,
      retryable: true,
    });
    const evicted: V1Pod = { status: { reason: 'Evicted', message: 'low on memory' } };
    expect(classifyJob(job('Failed', 'BackoffLimitExceeded'), evicted)).toMatchObject({
      reason: 'Evicted',
      retryable: true,
    });
  });
});

describe('classifyStuckPod', () => {
  const waiting = (reason: string): V1Pod => ({
    status: {
      containerStatuses: [
        {
          name: 'task',
          image: 'i',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { waiting: { reason } },
        },
      ],
    },
  });
  it('fails image pull problems at once, retryable only when the registry may recover', () => {
    expect(classifyStuckPod(waiting('ImagePullBackOff'), 0, 1000)).toMatchObject({ retryable: true });
    expect(classifyStuckPod(waiting('InvalidImageName'), 0, 1000)).toMatchObject({ retryable: false });
    expect(classifyStuckPod(waiting('ContainerCreating'), 0, 1000)).toBeUndefined();
  });
  it('fails an unschedulable pod only after the limit', () => {
    const since = new Date(10_000);
    const pod: V1Pod = {
      metadata: { creationTimestamp: since },
      status: {
        conditions: [
          { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', lastTransitionTime: since },
        ],
      },
    };
    expect(classifyStuckPod(pod, 10_500, 1000)).toBeUndefined();
    expect(classifyStuckPod(pod, 11_000, 1000)).toMatchObject({ reason: 'Unschedulable', retryable: true });
  });
});
