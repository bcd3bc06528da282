/**
 * Issue 11, "one composition root": the App reads the runners file as `maestro run` does, so a
 * pushed workflow's `runner: kubernetes` task runs as a Job on the cluster the file names: the
 * test control plane's real API server, Job controller and Pod Security admission (kwok plays
 * the kubelet, so the task's exit and outputs are the `SIM_*` env of test/setup/kwok-stages.yaml).
 * The Job fetches the pushed commit through its `source` init container: the stand-in's clone URL,
 * the exact SHA, and the installation token's header from the attempt's Secret (the stand-in's
 * `git http-backend` answers only with a live installation token). kwok does not execute the
 * container, so its command and env, with the header read from the Secret the API server holds,
 * run on the host with the real git against the stand-in: only the kubelet is played here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchV1Api, CoreV1Api, type V1Container } from '@kubernetes/client-node';
import { startHarness, type Harness } from './github-standin/app-harness.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { startTestCluster, type TestCluster } from './setup/k8s-cluster.ts';
import { prepareRunnerNamespaces } from './setup/k8s-runner-namespaces.ts';
import { waitFor } from './helpers/wait-for.ts';

const NS = 'maestro-app-runs';
let cluster: TestCluster;
let h: Harness | undefined;
beforeAll(async () => {
  cluster = await startTestCluster();
  await prepareRunnerNamespaces(cluster, [NS]);
}, 240_000);
afterAll(async () => {
  await h?.close();
  await cluster?.stop();
});

function runnersFile(): string {
  const file = join(tempDir('maestro-app-k8s-'), 'runners.yaml');
  writeFileSync(
    file,
    `kubernetes:
  kubeconfig: ${cluster.runnerKubeconfig}
  namespaces: { demo: ${NS} }
  defaultImage: registry.example/maestro/task:1
  source: { image: registry.example/maestro/git:2 }
  resourceClasses:
    small: { requests: { cpu: 100m, memory: 64Mi }, nodeSelector: { type: kwok } }
`,
  );
  return file;
}

describe('the App on the one runtime, with a Kubernetes runner', () => {
  it("runs a push's `runner: kubernetes` task as a Job on the pushed commit, as `maestro run` would", async () => {
    h = await startHarness({ runUpdateIntervalMs: 100, env: { MAESTRO_RUNNERS_CONFIG: runnersFile() } });
    // On main before the push (a new workflow on a remote runner would wait for an approval).
    const base = h.repo.commit({
      branch: 'main',
      login: 'carol',
      files: {
        '.maestro/workflows/cluster.yaml': `apiVersion: maestro/v1
kind: Workflow
metadata: { name: cluster, namespace: demo }
spec:
  triggers: { push: { branches: [main] } }
  defaults: { runner: kubernetes, retry: { limit: 0 } }
  tasks:
    - id: build
      run: echo "answer=42" >> "$MAESTRO_OUTPUT"
      env: { SIM_RUN_FOR: 4s, SIM_TERMINATION_MESSAGE: "answer=42" }
      outputs: [answer]
`,
      },
    });
    const sha = h.repo.commit({ branch: 'main', login: 'carol', files: { 'README.md': 'change' } });
    await h.deliver(
      'push',
      h.pushPayload({
        ref: 'refs/heads/main',
        before: base,
        after: sha,
        pusher: 'carol',
        files: ['README.md'],
      }),
    );
    // The attempt's Secret lives while the attempt runs: read it as the kubelet would.
    const core = cluster.admin.makeApiClient(CoreV1Api);
    const secret = await waitFor('the attempt Secret', async () => {
      const list = await core.listNamespacedSecret({
        namespace: NS,
        labelSelector: 'app.kubernetes.io/managed-by=summit-maestro',
      });
      return list.items[0];
    });
    await h.idle();
    const [check] = h.standin.checkRunsNamed('maestro / run demo/cluster', sha);
    expect(check!.conclusion, check!.output.summary).toBe('success');
    const [run] = await h.runtime.engineStore.listRuns();
    expect((await h.runtime.engineStore.getRun(run!.id)).plan.tasks[0]!.runner).toBe('kubernetes');
    expect(await h.runtime.engineStore.taskOutputs(run!.id, 'build')).toEqual({ answer: '42' });
    // The Job the API server holds fetches exactly the pushed commit of the stand-in's repository.
    const jobs = await cluster.admin
      .makeApiClient(BatchV1Api)
      .listNamespacedJob({ namespace: NS, labelSelector: `maestro.dev/run-id=${run!.id}` });
    expect(jobs.items).toHaveLength(1);
    const init = jobs.items[0]!.spec!.template.spec!.initContainers!.find((c) => c.name === 'source')!;
    const env = Object.fromEntries(init.env!.map((e) => [e.name, e.value]));
    expect(env.MAESTRO_SOURCE_SHA).toBe(sha);
    expect(env.MAESTRO_SOURCE_REPO).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/acme\/pipelines\.git$/);
    // The token is in the Secret, never in the Job; with it, the container's fetch gets the commit.
    const header = Buffer.from(secret.data!.MAESTRO_SOURCE_HEADER!, 'base64').toString('utf8');
    expect(header).toMatch(/^Authorization: Basic /);
    expect(JSON.stringify(jobs.items[0])).not.toContain(header.slice(21));
    const fetched = await runSourceInit(init, { MAESTRO_SOURCE_HEADER: header });
    expect(fetched.status, fetched.stderr).toBe(0);
    expect(readFileSync(join(fetched.dir, 'README.md'), 'utf8')).toBe('change');
    expect(fetched.stderr).not.toContain(header.slice(21));
    const anonymous = await runSourceInit(init, {});
    expect(anonymous.status).not.toBe(0);
    expect(await h.runtime.deliveryStore.failedDeliveries()).toEqual([]);
    expect(h.standin.violations).toEqual([]);
  }, 180_000);
});

/**
 * The source init container's command and env on the host, `secretKeyRef`s from `secret`. Not
 * spawnSync: the stand-in answering git runs in this process.
 */
async function runSourceInit(init: V1Container, secret: Record<string, string>) {
  const dir = tempDir('maestro-app-k8s-src-');
  const env: Record<string, string> = { PATH: process.env.PATH!, HOME: dir };
  for (const e of init.env ?? []) {
    const value = e.valueFrom ? secret[e.valueFrom.secretKeyRef!.key] : e.value;
    if (value !== undefined) env[e.name] = value;
  }
  if (!secret.MAESTRO_SOURCE_HEADER)
    for (const k of Object.keys(env)) if (k.startsWith('GIT_CONFIG_')) delete env[k];
  env.HOME = dir;
  const [shell, ...args] = init.command!;
  try {
    const ran = await promisify(execFile)(shell!, args, { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
    return { status: 0, stderr: ran.stderr, dir };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { status: failed.code ?? 1, stderr: failed.stderr ?? '', dir };
  }
}
