/**
 * The Kubernetes runner against a real control plane (test/setup/k8s-cluster.ts): real etcd,
 * kube-apiserver with RBAC and Pod Security admission, the real Job controller, garbage
 * collector, TTL controller and scheduler. Only the kubelet is simulated (kwok): pod phases,
 * exit codes and termination messages come from the Stages in test/setup/kwok-stages.yaml,
 * driven by SIM_* variables in the task's env. Container logs are a canned file kwok serves
 * through its kubelet API; the path to it (API server → node) is real.
 * What every runner must do is checked by the runner contract suite (test/runner-contract/);
 * this file keeps what is the Kubernetes runner's own (admission, Secrets, RBAC, watches).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import {
  BatchV1Api,
  CoreV1Api,
  NetworkingV1Api,
  type V1NetworkPolicy,
  type V1Pod,
} from '@kubernetes/client-node';
import type { LogLine, RunnerStartRequest } from '../core/index.ts';
import {
  buildAttempt,
  createKubernetesRunner,
  jobName,
  type KubernetesRunnerConfig,
  type KubernetesRunnerStats,
} from '../runners/kubernetes/index.ts';
import { KWOK_PEM, KWOK_POD_LOG, startTestCluster, type TestCluster } from './setup/k8s-cluster.ts';
import { prepareRunnerNamespaces } from './setup/k8s-runner-namespaces.ts';
import { waitFor } from './helpers/wait-for.ts';

let cluster: TestCluster;
let batch: BatchV1Api;
let core: CoreV1Api;
const NS_A = 'maestro-team-a';
const NS_B = 'maestro-team-b';
const NS_FORBIDDEN = 'someone-else';

function config(overrides: Partial<KubernetesRunnerConfig> = {}): KubernetesRunnerConfig {
  return {
    kubeconfig: cluster.runnerKubeconfig,
    namespaces: { 'team-a': NS_A, 'team-b': NS_B, intruder: NS_FORBIDDEN },
    defaultImage: 'registry.example/maestro/task:1',
    ttlSecondsAfterFinished: 600,
    unschedulableTimeoutMs: 2000,
    resourceClasses: {
      small: {
        requests: { cpu: '100m', memory: '64Mi' },
        limits: { cpu: '500m', memory: '128Mi' },
        nodeSelector: { type: 'kwok' },
      },
      gpu: { requests: { cpu: '100m' }, nodeSelector: { accelerator: 'gpu-that-does-not-exist' } },
    },
    ...overrides,
  };
}

function newStats(): KubernetesRunnerStats {
  return { requests: 0, watch: { lists: 0, watches: 0, gone: 0 } };
}

let seq = 0;
function request(
  env: Record<string, string>,
  overrides: Partial<RunnerStartRequest> = {},
): RunnerStartRequest {
  seq += 1;
  const runId = `run-${Date.now().toString(36)}-${seq}`;
  return {
    runId,
    taskId: 'build',
    attempt: 1,
    attemptId: `${runId}/build/1`,
    command: { kind: 'shell', script: 'echo "answer=42" > "$MAESTRO_OUTPUT"' },
    env,
    redact: [],
    workDir: '/unused',
    artifactsDir: '/unused',
    resources: 'small',
    namespace: 'team-a',
    outputs: ['answer'],
    ...overrides,
  };
}

function runningPod(namespace: string, req: RunnerStartRequest): Promise<V1Pod> {
  return waitFor('a running pod', async () => {
    const pods = await core.listNamespacedPod({
      namespace,
      labelSelector: `batch.kubernetes.io/job-name=${jobName(req)}`,
    });
    return pods.items.find((p) => p.status?.phase === 'Running');
  });
}

async function jobsOfAttempt(namespace: string, req: RunnerStartRequest) {
  const list = await batch.listNamespacedJob({ namespace, labelSelector: `maestro.dev/run-id=${req.runId}` });
  return list.items;
}

beforeAll(async () => {
  cluster = await startTestCluster();
  batch = cluster.admin.makeApiClient(BatchV1Api);
  core = cluster.admin.makeApiClient(CoreV1Api);
  // The runner's user may manage Jobs only in the namespaces mapped for Maestro (not NS_FORBIDDEN).
  await prepareRunnerNamespaces(cluster, [NS_A, NS_B, NS_FORBIDDEN], [NS_A, NS_B]);
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('kubernetes runner against a real API server and Job controller', () => {
  it('runs a restricted-profile Job that Pod Security admits, and collects outputs from the termination message', async () => {
    const runner = createKubernetesRunner(config());
    const req = request({ SIM_RUN_FOR: '500ms', SIM_TERMINATION_MESSAGE: 'answer=42\nundeclared=1' });
    const handle = await runner.start(req);
    const result = await handle.wait();
    expect(result).toMatchObject({ outcome: 'succeeded', exitCode: 0, outputs: { answer: '42' } });

    const [job] = await jobsOfAttempt(NS_A, req);
    expect(job?.metadata?.name).toBe(jobName(req));
    expect(job?.spec?.backoffLimit).toBe(0);
    expect(job?.spec?.ttlSecondsAfterFinished).toBe(600);
    expect(job?.metadata?.annotations?.['maestro.dev/attempt-id']).toBe(req.attemptId);
    // A pod existed (the Job succeeded), so the restricted profile admitted our pod template.
    expect(job?.status?.succeeded).toBe(1);
    await runner.close?.();
  });

  it('gives the pod the run source through an init container that Pod Security admits (kwok runs no git)', async () => {
    // What the real API server checks here: the init container's spec, its restricted security
    // context (Pod Security admission runs on the pod the Job controller creates) and the Secret
    // reference. What kwok cannot do: execute the init container's git fetch; it marks the pod's
    // containers as run, so the fetch itself is covered by the container and local runners.
    const runner = createKubernetesRunner(
      config({ source: { image: 'registry.example/maestro/git:1', headerSecret: 'repo-reader' } }),
    );
    const sha = 'c'.repeat(40);
    const req = request(
      { SIM_RUN_FOR: '200ms', SIM_TERMINATION_MESSAGE: 'answer=42' },
      { source: { kind: 'git', repo: 'https://github.com/acme/app.git', commit: sha } },
    );
    const result = await (await runner.start(req)).wait();
    expect(result.outcome).toBe('succeeded');
    const [job] = await jobsOfAttempt(NS_A, req);
    const [init] = job!.spec!.template.spec!.initContainers!;
    expect(init!.name).toBe('source');
    expect(init!.env).toContainEqual({ name: 'MAESTRO_SOURCE_SHA', value: sha });
    expect(init!.securityContext?.runAsNonRoot).toBe(true);
    expect(job?.status?.succeeded).toBe(1);
    await runner.close?.();
  });

  it('gives the pod its received artifacts through an init container Pod Security admits, the URLs only in the attempt Secret (kwok runs no wget)', async () => {
    // The API server checks the init container's spec and restricted security context, the
    // read-only mount and the Secret reference; kwok executes neither the fetch nor its digest
    // check, which run on Podman in test/kubernetes-artifacts-init.test.ts.
    const runner = createKubernetesRunner(config());
    const url = 'https://bucket.s3.example/k8s/sha256/abc?X-Amz-Signature=0123456789abcdef';
    const req = request(
      { SIM_RUN_FOR: '200ms', SIM_TERMINATION_MESSAGE: 'answer=42' },
      { received: [{ path: 'build/dist/hello', digest: `sha256:${'a'.repeat(64)}`, executable: true, url }] },
    );
    const result = await (await runner.start(req)).wait();
    expect(result.outcome).toBe('succeeded');
    const [job] = await jobsOfAttempt(NS_A, req);
    const pod = job!.spec!.template.spec!;
    const init = pod.initContainers!.find((c) => c.name === 'artifacts')!;
    expect(init.securityContext?.runAsNonRoot).toBe(true);
    expect(init.env).toContainEqual({
      name: 'MAESTRO_ARTIFACT_URL_0',
      valueFrom: { secretKeyRef: { name: `${jobName(req)}-secrets`, key: 'MAESTRO_ARTIFACT_URL_0' } },
    });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: 'artifacts',
      mountPath: '/maestro/artifacts',
      readOnly: true,
    });
    expect(JSON.stringify(job)).not.toContain('X-Amz-Signature');
    expect(job?.status?.succeeded).toBe(1);
    await runner.close?.();
  });

  it('streams container logs through the API server while the pod runs, redacted (every line of a PEM secret)', async () => {
    const runner = createKubernetesRunner(config());
    const handle = await runner.start(request({ SIM_RUN_FOR: '3s' }, { redact: ['s3cr3t-token', KWOK_PEM] }));
    const lines: LogLine[] = [];
    const [result] = await Promise.all([
      handle.wait(),
      (async () => {
        for await (const line of handle.logs()) lines.push(line);
      })(),
    ]);
    expect(result.outcome).toBe('succeeded');
    // The API server proxies to the node's kubelet API (kwok), which merges stdout and stderr.
    const pemLines = KWOK_PEM.split('\n');
    expect(lines.filter((l) => l.stream === 'stdout').map((l) => l.text)).toEqual(
      KWOK_POD_LOG.map((l) => (pemLines.includes(l.text) ? '***' : l.text.replace('s3cr3t-token', '***'))),
    );
    await runner.close?.();
  });

  it('keeps secret values out of the Job spec: a per-attempt Secret, owned by the Job, deleted when the attempt ends', async () => {
    const runner = createKubernetesRunner(config());
    const req = request(
      { SIM_RUN_FOR: '2s', TOKEN: KWOK_PEM, AUTH: `Bearer ${KWOK_PEM}` },
      {
        command: { kind: 'argv', argv: ['/bin/deploy', `--key=${KWOK_PEM}`] },
        redact: [KWOK_PEM],
      },
    );
    const handle = await runner.start(req);
    const running = await runningPod(NS_A, req);
    const [job] = await jobsOfAttempt(NS_A, req);
    const secretName = `${jobName(req)}-secrets`;
    // What anyone with `get jobs` or `get pods` reads, straight from the API server.
    const pod = await core.readNamespacedPod({ name: running.metadata!.name!, namespace: NS_A });
    for (const text of [JSON.stringify(job), JSON.stringify(pod)])
      for (const line of KWOK_PEM.split('\n')) {
        expect(text).not.toContain(line);
        expect(text).not.toContain(JSON.stringify(line).slice(1, -1));
      }
    const env = job!.spec!.template.spec!.containers[0]!.env!;
    expect(env.find((e) => e.name === 'TOKEN')).toEqual({
      name: 'TOKEN',
      valueFrom: { secretKeyRef: { name: secretName, key: 'TOKEN' } },
    });
    expect(job!.spec!.template.spec!.containers[0]!.command).toEqual([
      '/bin/deploy',
      '$(MAESTRO_SECRET_ARG_0)',
    ]);
    expect(job!.spec!.suspend).toBe(false);
    const secret = await core.readNamespacedSecret({ name: secretName, namespace: NS_A });
    expect(secret.metadata!.ownerReferences).toEqual([
      expect.objectContaining({
        apiVersion: 'batch/v1',
        kind: 'Job',
        name: jobName(req),
        uid: job!.metadata!.uid,
      }),
    ]);
    const decoded = Object.fromEntries(
      Object.entries(secret.data!).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]),
    );
    expect(decoded).toEqual({
      TOKEN: KWOK_PEM,
      AUTH: `Bearer ${KWOK_PEM}`,
      MAESTRO_SECRET_ARG_0: `--key=${KWOK_PEM}`,
    });
    expect((await handle.wait()).outcome).toBe('succeeded');
    await waitFor(
      'the attempt secret deleted',
      async () =>
        await core.readNamespacedSecret({ name: secretName, namespace: NS_A }).then(
          () => undefined,
          (error: { code?: number }) => (error.code === 404 ? true : undefined),
        ),
    );
    await runner.close?.();
  });

  it('the garbage collector deletes the attempt secret with its Job (ownerReferences are real)', async () => {
    const runner = createKubernetesRunner(config());
    const req = request({ SIM_RUN_FOR: '60s', TOKEN: 'gc-token-value' }, { redact: ['gc-token-value'] });
    const handle = await runner.start(req);
    await runningPod(NS_A, req);
    const secretName = `${jobName(req)}-secrets`;
    expect((await core.readNamespacedSecret({ name: secretName, namespace: NS_A })).metadata!.name).toBe(
      secretName,
    );
    // Someone else deletes the Job (as an operator or the TTL controller would): no Maestro code runs.
    await runner.close?.();
    await batch.deleteNamespacedJob({ name: jobName(req), namespace: NS_A, propagationPolicy: 'Background' });
    await waitFor(
      'the garbage collector to delete the secret',
      async () =>
        await core.readNamespacedSecret({ name: secretName, namespace: NS_A }).then(
          () => undefined,
          (error: { code?: number }) => (error.code === 404 ? true : undefined),
        ),
    );
    expect(handle).toBeDefined(); // detached: nothing of Maestro watches the Job any more
  });

  it('ships a default-deny egress NetworkPolicy the API server accepts, selecting the task pods', async () => {
    const file = join(import.meta.dirname, '..', 'deploy', 'kubernetes', 'task-egress-deny.yaml');
    const policy = loadYaml(readFileSync(file, 'utf8')) as V1NetworkPolicy;
    const networking = cluster.admin.makeApiClient(NetworkingV1Api);
    const created = await networking.createNamespacedNetworkPolicy({ namespace: NS_A, body: policy });
    expect(created.spec).toMatchObject({ policyTypes: ['Egress'], podSelector: policy.spec!.podSelector });
    expect(created.spec!.egress ?? []).toEqual([]);
    // It selects exactly the pods the runner makes: their labels satisfy its podSelector.
    const runner = createKubernetesRunner(config());
    const req = request({ SIM_RUN_FOR: '1s' });
    const handle = await runner.start(req);
    const pod = await runningPod(NS_A, req);
    for (const [key, value] of Object.entries(created.spec!.podSelector!.matchLabels ?? {}))
      expect(pod.metadata!.labels![key]).toBe(value);
    expect((await handle.wait()).outcome).toBe('succeeded');
    await runner.close?.();
    await networking.deleteNamespacedNetworkPolicy({ name: created.metadata!.name!, namespace: NS_A });
  });

  it('proves enforcement is real: the same namespace rejects a non-compliant pod', async () => {
    const attempt = core.createNamespacedPod({
      namespace: NS_A,
      body: {
        // No securityContext at all: may run as root, may escalate, keeps capabilities.
        metadata: { name: 'unrestricted-probe' },
        spec: { containers: [{ name: 'c', image: 'busybox' }] },
      },
    });
    await expect(attempt).rejects.toMatchObject({
      code: 403,
      body: expect.stringMatching(/violates PodSecurity \\"restricted:latest\\": allowPrivilegeEscalation/),
    });
  });

  it('maps OOMKilled to its own reason, not retryable (plain exit codes: the runner contract suite)', async () => {
    const runner = createKubernetesRunner(config());
    const oom = await runner.start(
      request({ SIM_RUN_FOR: '300ms', SIM_EXIT_CODE: '137', SIM_REASON: 'OOMKilled' }),
    );
    expect(await oom.wait()).toMatchObject({
      outcome: 'failed',
      exitCode: 137,
      retryable: false,
      reason: 'OOMKilled',
    });
    await runner.close?.();
  });
  it('times out through activeDeadlineSeconds, enforced by the real Job controller', async () => {
    const runner = createKubernetesRunner(config());
    const req = request({ SIM_RUN_FOR: '1h' }, { timeoutMs: 2000 });
    const result = await (await runner.start(req)).wait();
    expect(result).toMatchObject({ outcome: 'timed_out', reason: 'DeadlineExceeded', retryable: true });
    const [job] = await jobsOfAttempt(NS_A, req);
    expect(job?.spec?.activeDeadlineSeconds).toBe(2);
    await runner.close?.();
  });

  it('cancel deletes the Job with propagation, and its pod goes too', async () => {
    const runner = createKubernetesRunner(config({ deletePropagation: 'Foreground' }));
    const req = request({ SIM_RUN_FOR: '1h' });
    const handle = await runner.start(req);
    await runningPod(NS_A, req);
    await handle.cancel('user asked', 1000);
    expect(await handle.wait()).toMatchObject({
      outcome: 'cancelled',
      message: 'user asked',
      retryable: false,
    });
    await waitFor('the Job and its pods to be gone', async () => {
      const pods = await core.listNamespacedPod({
        namespace: NS_A,
        labelSelector: `batch.kubernetes.io/job-name=${jobName(req)}`,
      });
      return (await jobsOfAttempt(NS_A, req)).length === 0 && pods.items.length === 0 ? true : undefined;
    });
    await runner.close?.();
  });

  it('after a crash mid-run, starting the attempt again attaches to the existing Job (no duplicate)', async () => {
    const first = createKubernetesRunner(config());
    const req = request({ SIM_RUN_FOR: '3s', SIM_TERMINATION_MESSAGE: 'answer=after-crash' });
    await first.start(req);
    await runningPod(NS_A, req);
    await first.close?.(); // Maestro "dies": watches stop, the Job keeps running.

    const second = createKubernetesRunner(config());
    const again = await second.start(req); // hits AlreadyExists → attaches
    const viaReattach = await second.reattach!({ ...req });
    expect(viaReattach).toBeDefined();
    expect(await again.wait()).toMatchObject({ outcome: 'succeeded', outputs: { answer: 'after-crash' } });
    expect(await viaReattach!.wait()).toMatchObject({ outcome: 'succeeded' });
    expect(await jobsOfAttempt(NS_A, req)).toHaveLength(1);
    expect(
      await second.reattach!({ ...req, runId: 'never-started', attemptId: 'never-started/build/1' }),
    ).toBeUndefined();
    await second.close?.();
  });

  it('a crash between creating a Job and its Secret: starting again provides the Secret and resumes it; reattach removes it', async () => {
    const runner = createKubernetesRunner(config());
    const cfg = config();
    // What a runner that died right after creating the (suspended) Job left behind: no Secret.
    const leftOver = (req: RunnerStartRequest) =>
      batch.createNamespacedJob({
        namespace: NS_A,
        body: buildAttempt(req, NS_A, cfg.resourceClasses.small!, cfg).job,
      });
    const req = request(
      { SIM_RUN_FOR: '500ms', SIM_TERMINATION_MESSAGE: 'answer=resumed', TOKEN: 'crash-token' },
      { redact: ['crash-token'] },
    );
    expect((await leftOver(req)).spec!.suspend).toBe(true);
    const handle = await runner.start(req); // AlreadyExists: attach, make the Secret, resume
    expect(await handle.wait()).toMatchObject({ outcome: 'succeeded', outputs: { answer: 'resumed' } });
    expect(await jobsOfAttempt(NS_A, req)).toHaveLength(1);

    const orphan = request({ TOKEN: 'lost-token' }, { redact: ['lost-token'] });
    await leftOver(orphan);
    // After a restart the values are unknown: the suspended Job is deleted, the engine retries.
    expect(await runner.reattach!({ ...orphan })).toBeUndefined();
    await waitFor('the suspended Job deleted', async () =>
      (await jobsOfAttempt(NS_A, orphan)).length === 0 ? true : undefined,
    );
    await runner.close?.();
  });

  it('keeps namespaces apart: unmapped namespaces fail, and RBAC stops a mapping into a foreign namespace', async () => {
    const runner = createKubernetesRunner(config());
    const unmapped = await (await runner.start(request({}, { namespace: 'team-z' }))).wait();
    expect(unmapped).toMatchObject({
      outcome: 'runner_error',
      reason: 'NamespaceNotMapped',
      retryable: false,
    });
    const foreign = await (await runner.start(request({}, { namespace: 'intruder' }))).wait();
    expect(foreign).toMatchObject({ outcome: 'runner_error', reason: 'Forbidden', retryable: false });
    expect(foreign.message).toMatch(/User "maestro-runner" cannot create resource "jobs".* "someone-else"/);
    // The same attempt in team-b is a different Job in a different namespace; team-a's is untouched.
    const req = request({ SIM_RUN_FOR: '200ms' });
    const [a, b] = await Promise.all([runner.start(req), runner.start({ ...req, namespace: 'team-b' })]);
    expect((await a.wait()).outcome).toBe('succeeded');
    expect((await b.wait()).outcome).toBe('succeeded');
    expect(await jobsOfAttempt(NS_A, req)).toHaveLength(1);
    expect(await jobsOfAttempt(NS_B, req)).toHaveLength(1);
    await runner.close?.();
  });

  it('fails an unschedulable pod after the configured wait (retryable) and deletes its Job', async () => {
    const runner = createKubernetesRunner(config());
    const req = request({}, { resources: 'gpu' });
    const result = await (await runner.start(req)).wait();
    expect(result).toMatchObject({ outcome: 'failed', reason: 'Unschedulable', retryable: true });
    expect(result.message).toMatch(/node/);
    await waitFor('the Job to be deleted', async () =>
      (await jobsOfAttempt(NS_A, req)).length === 0 ? true : undefined,
    );
    await runner.close?.();
  });

  it('maps an image pull failure reported by the node to a retryable failure', async () => {
    const runner = createKubernetesRunner(config());
    const result = await (await runner.start(request({ SIM_WAITING_REASON: 'ErrImagePull' }))).wait();
    expect(result).toMatchObject({ outcome: 'failed', reason: 'ErrImagePull', retryable: true });
    await runner.close?.();
  });

  it(
    'survives a watch interruption: API server restart plus etcd compaction forces 410 Gone and a re-list',
    { timeout: 180_000 },
    async () => {
      const stats = newStats();
      const runner = createKubernetesRunner(config(), { stats });
      const req = request({ SIM_RUN_FOR: '1h', SIM_TERMINATION_MESSAGE: 'answer=survived' });
      const handle = await runner.start(req);
      await runningPod(NS_A, req);
      await new Promise((r) => setTimeout(r, 500)); // let the runner's watches see the running pod
      await cluster.restartApiserver(async () => {
        // While the API server is down, history moves on and is compacted away.
        await fetch(`${cluster.etcdUrl}/v3/kv/put`, {
          method: 'POST',
          body: JSON.stringify({ key: btoa('/maestro-test/bump'), value: btoa('1') }),
        });
        await cluster.compactEtcd();
      });
      // Finish the pod the way a kubelet would: report the container's exit in the pod status.
      const pod = await runningPod(NS_A, req);
      const now = new Date();
      pod.status = {
        ...pod.status,
        phase: 'Succeeded',
        containerStatuses: [
          {
            name: 'task',
            image: pod.spec!.containers[0]!.image!,
            imageID: '',
            ready: false,
            restartCount: 0,
            state: {
              terminated: {
                exitCode: 0,
                reason: 'Completed',
                message: 'answer=survived',
                startedAt: now,
                finishedAt: now,
              },
            },
          },
        ],
      };
      await core.replaceNamespacedPodStatus({ name: pod.metadata!.name!, namespace: NS_A, body: pod });
      expect(await handle.wait()).toMatchObject({ outcome: 'succeeded', outputs: { answer: 'survived' } });
      expect(stats.watch.gone).toBeGreaterThanOrEqual(1);
      expect(stats.watch.lists).toBeGreaterThan(2);
      expect(await jobsOfAttempt(NS_A, req)).toHaveLength(1);
      await runner.close?.();
    },
  );
});
