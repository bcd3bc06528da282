/**
 * Price-aware placement's flavors on the Kubernetes runner (ADR-051), against the real test
 * control plane (test/setup/k8s-cluster.ts): a spot attempt's Job carries the node selector and
 * tolerations the operator configured for the flavor on top of its resource class's; an
 * on-demand one carries only the class's; a flavor the operator did not configure is refused
 * before any Job is created (the engine then re-attempts on on-demand: test/engine-placement.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchV1Api } from '@kubernetes/client-node';
import type { RunnerStartRequest } from '../core/index.ts';
import { createKubernetesRunner, jobName } from '../runners/kubernetes/index.ts';
import { startTestCluster, type TestCluster } from './setup/k8s-cluster.ts';
import { prepareRunnerNamespaces } from './setup/k8s-runner-namespaces.ts';
import { waitFor } from './helpers/wait-for.ts';

let cluster: TestCluster;
let batch: BatchV1Api;
const NS = 'maestro-flavors';
const SPOT_TAINT = { key: 'cloud.example/spot', operator: 'Exists' as const, effect: 'NoSchedule' as const };

beforeAll(async () => {
  cluster = await startTestCluster();
  batch = cluster.admin.makeApiClient(BatchV1Api);
  await prepareRunnerNamespaces(cluster, [NS], [NS]);
}, 240_000);
afterAll(async () => {
  await cluster?.stop();
});

let seq = 0;
function request(flavor?: string): RunnerStartRequest {
  seq += 1;
  const runId = `run-flavor-${Date.now().toString(36)}-${seq}`;
  return {
    runId,
    taskId: 'reindex',
    attempt: 1,
    attemptId: `${runId}/reindex/1`,
    command: { kind: 'shell', script: 'true' },
    env: {},
    redact: [],
    workDir: '/unused',
    artifactsDir: '/unused',
    resources: 'small',
    namespace: 'batch',
    outputs: [],
    ...(flavor ? { flavor } : {}),
  };
}

describe('kubernetes runner: capacity flavors as node selectors and tolerations', () => {
  it('a spot attempt’s Job carries the flavor’s selector and toleration over its class’s; on-demand only the class’s', async () => {
    const runner = createKubernetesRunner({
      kubeconfig: cluster.runnerKubeconfig,
      namespaces: { batch: NS },
      defaultImage: 'registry.example/maestro/task:1',
      unschedulableTimeoutMs: 60_000,
      resourceClasses: { small: { requests: { cpu: '100m' }, nodeSelector: { type: 'kwok' } } },
      flavors: {
        spot: { nodeSelector: { 'cloud.example/capacity': 'spot' }, tolerations: [SPOT_TAINT] },
      },
    });
    try {
      const spot = request('spot');
      const onDemand = request();
      const handles = [await runner.start(spot), await runner.start(onDemand)];
      const podSpec = async (r: RunnerStartRequest) =>
        (
          await waitFor('the Job', () =>
            batch.readNamespacedJob({ namespace: NS, name: jobName(r) }).catch(() => undefined),
          )
        ).spec!.template.spec!;
      const spotPod = await podSpec(spot);
      expect(spotPod.nodeSelector).toEqual({ type: 'kwok', 'cloud.example/capacity': 'spot' });
      expect(spotPod.tolerations).toEqual([SPOT_TAINT]);
      const plainPod = await podSpec(onDemand);
      expect(plainPod.nodeSelector).toEqual({ type: 'kwok' });
      expect(plainPod.tolerations ?? []).toEqual([]);
      await Promise.all(handles.map((h) => h.cancel('test over', 0)));
    } finally {
      await runner.close?.();
    }
  }, 120_000);

  it('refuses a flavor the operator did not configure, before creating a Job', async () => {
    const runner = createKubernetesRunner({
      kubeconfig: cluster.runnerKubeconfig,
      namespaces: { batch: NS },
      defaultImage: 'registry.example/maestro/task:1',
      resourceClasses: { small: { requests: { cpu: '100m' } } },
    });
    try {
      const r = request('spot');
      const result = await (await runner.start(r)).wait();
      expect(result).toMatchObject({ reason: 'flavor_not_configured', retryable: false });
      await expect(batch.readNamespacedJob({ namespace: NS, name: jobName(r) })).rejects.toThrow();
    } finally {
      await runner.close?.();
    }
  }, 60_000);
});
