/**
 * Several clusters from one control plane (docs/runners.md, "Several clusters"): two real API
 * servers of the test control plane (test/setup/k8s-cluster.ts, each with its own etcd,
 * controllers, scheduler and kwok node, on its own ports and directory), one runners file that
 * names both, and one workflow whose two tasks land on different clusters. Each API server is
 * asked whether it holds each Job. Then the attack: a namespace pinned to one cluster asking for
 * a resource class of the other is refused before anything exists on either; and a resuming
 * engine finds a running Job on the cluster recorded with its attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchV1Api } from '@kubernetes/client-node';
import { load as loadYaml } from 'js-yaml';
import type { RunnerStartRequest } from '../core/index.ts';
import { createKubernetesRunner } from '../runners/kubernetes/index.ts';
import { openRuntime, runtimeConfigFromEnv, type Runtime } from '../runtime/index.ts';
import { planOf, shellTask } from './helpers/engine-fixtures.ts';
import { startTestCluster, type TestCluster } from './setup/k8s-cluster.ts';
import { prepareRunnerNamespaces } from './setup/k8s-runner-namespaces.ts';

const NS = 'maestro-ci';
let east: TestCluster;
let west: TestCluster;
let dir: string;
let runnersFile: string;
let runtime: Runtime | undefined;

interface KubeconfigDoc {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  users: { name: string; user: Record<string, unknown> }[];
}

/** One kubeconfig file with the context `east` (the operator's shared file); west has its own. */
function sharedKubeconfig(of: TestCluster): string {
  const doc = loadYaml(readFileSync(of.runnerKubeconfig, 'utf8')) as KubeconfigDoc;
  const file = join(dir, 'shared.kubeconfig');
  const cluster = JSON.stringify(doc.clusters[0]!.cluster);
  const user = JSON.stringify(doc.users[0]!.user);
  writeFileSync(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: east-api, cluster: ${cluster}}]`,
      `users: [{name: runner, user: ${user}}]`,
      'contexts: [{name: east, context: {cluster: east-api, user: runner}}]',
      'current-context: east',
      '',
    ].join('\n'),
  );
  return file;
}

function runnersConfig(shared: string, extra = ''): string {
  return `kubernetes:
  kubeconfig: ${shared}
  clusters:
    east: { context: east }
    west: { kubeconfig: ${west.runnerKubeconfig}, context: test }
  defaultCluster: east
  namespaces:
    test: ${NS}
    payments: { namespace: ${NS}, cluster: east }
  defaultImage: registry.example/maestro/task:1
  ttlSecondsAfterFinished: 600
  resourceClasses:
    small: { requests: { cpu: 100m, memory: 64Mi }, nodeSelector: { type: kwok } }
    gpu: { cluster: west, requests: { cpu: 100m }, nodeSelector: { type: kwok } }
${extra}`;
}

async function jobsOfRun(cluster: TestCluster, runId: string): Promise<string[]> {
  const batch = cluster.admin.makeApiClient(BatchV1Api);
  const list = await batch.listNamespacedJob({ namespace: NS });
  return list.items
    .filter((j) => j.metadata?.annotations?.['maestro.dev/run-id'] === runId)
    .map((j) => j.metadata!.annotations!['maestro.dev/task-id']!)
    .sort();
}

async function openWith(file: string): Promise<Runtime> {
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    MAESTRO_POLICY: 'off',
    MAESTRO_RUNNERS_CONFIG: file,
  };
  return openRuntime(runtimeConfigFromEnv(env, { cwd: dir, flags: { dataDir: join(dir, 'data') } }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-k8s-clusters-'));
  // Two control planes, each on free ports in a directory of its own.
  [east, west] = await Promise.all([startTestCluster(), startTestCluster()]);
  await Promise.all([prepareRunnerNamespaces(east, [NS]), prepareRunnerNamespaces(west, [NS])]);
  runnersFile = join(dir, 'runners.yaml');
  writeFileSync(runnersFile, runnersConfig(sharedKubeconfig(east)));
}, 400_000);

afterAll(async () => {
  await runtime?.close();
  await Promise.all([east?.stop(), west?.stop()]);
});

const sim = { SIM_RUN_FOR: '300ms', SIM_TERMINATION_MESSAGE: 'answer=42' };

describe('one workflow, two clusters', () => {
  it('runs each task on the cluster its resource class names, and only there', async () => {
    runtime = await openWith(runnersFile);
    const plan = planOf([
      shellTask('build', 'true', { runner: 'kubernetes', env: sim, outputs: ['answer'] }),
      shellTask('train', 'true', { runner: 'kubernetes', resources: 'gpu', env: sim, needs: ['build'] }),
    ]);
    const runId = await runtime.engine.submit(plan, { trust: 'trusted' });
    const run = await runtime.engine.execute(runId);
    const logs = (await runtime.store.listLogs(runId)).map((l) => l.text);
    expect(run.status, logs.join('\n')).toBe('succeeded');
    // Asked of each API server: the Job exists only where the task was placed.
    expect(await jobsOfRun(east, runId)).toEqual(['build']);
    expect(await jobsOfRun(west, runId)).toEqual(['train']);
    expect(await runtime.store.taskOutputs(runId, 'build')).toEqual({ answer: '42' });
    // The attempt records and the signed receipts name the cluster each ran on.
    const placements = (await runtime.store.listAttempts(runId)).map((a) => [a.taskId, a.placement]);
    expect(placements.sort()).toEqual([
      ['build', { cluster: 'east', namespace: NS }],
      ['train', { cluster: 'west', namespace: NS }],
    ]);
    const receipts = (await runtime.store.listReceipts(runId)).filter((r) => r.taskId !== '');
    const named = receipts.map((r) => {
      const payload = (r.bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload;
      const statement = JSON.parse(Buffer.from(payload, 'base64').toString()) as {
        predicate: { buildDefinition: { internalParameters: { maestro: { placement?: unknown } } } };
      };
      return [r.taskId, statement.predicate.buildDefinition.internalParameters.maestro.placement];
    });
    expect(named.sort()).toEqual(placements.sort());
  }, 120_000);

  it('refuses, before the run is stored, a workflow whose pinned namespace asks for the other cluster', async () => {
    runtime ??= await openWith(runnersFile);
    const before = (await runtime.store.listRuns()).length;
    const plan = planOf([shellTask('escape', 'true', { runner: 'kubernetes', resources: 'gpu', env: sim })], {
      workflow: { kind: 'Workflow', name: 'escape', namespace: 'payments', labels: {} },
    });
    await expect(runtime.engine.submit(plan, { trust: 'trusted' })).rejects.toMatchObject({
      code: 'runner_placement_refused',
      message: expect.stringMatching(
        /runs only on cluster east, but resource class "gpu" runs only on cluster west/,
      ),
    });
    expect((await runtime.store.listRuns()).length).toBe(before);
  }, 60_000);

  it('refuses a namespace pinned to east that asks for the west-only class: no Job on either cluster', async () => {
    runtime ??= await openWith(runnersFile);
    const runner = runtime.runners.get('kubernetes')!;
    const req: RunnerStartRequest = {
      runId: `r-attack-${Date.now().toString(36)}`,
      taskId: 'escape',
      attempt: 1,
      attemptId: 'a-attack',
      command: { kind: 'shell', script: 'true' },
      env: sim,
      redact: [],
      workDir: '/unused',
      artifactsDir: '/unused',
      resources: 'gpu',
      namespace: 'payments',
      outputs: [],
      trust: 'trusted',
    };
    const result = await (await runner.start(req)).wait();
    expect(result).toMatchObject({ outcome: 'runner_error', reason: 'ClusterConflict', retryable: false });
    expect(await jobsOfRun(east, req.runId)).toEqual([]);
    expect(await jobsOfRun(west, req.runId)).toEqual([]);
  }, 60_000);

  it('re-attaches on the cluster recorded with the attempt, even after the class moved clusters', async () => {
    const shared = join(dir, 'shared.kubeconfig');
    const config = loadYaml(runnersConfig(shared)) as {
      kubernetes: Parameters<typeof createKubernetesRunner>[0];
    };
    const first = createKubernetesRunner(config.kubernetes);
    const req: RunnerStartRequest = {
      runId: `r-reattach-${Date.now().toString(36)}`,
      taskId: 'train',
      attempt: 1,
      attemptId: 'a-reattach-1',
      command: { kind: 'shell', script: 'true' },
      env: { SIM_RUN_FOR: '3s', SIM_TERMINATION_MESSAGE: 'answer=7' },
      redact: [],
      workDir: '/unused',
      artifactsDir: '/unused',
      resources: 'gpu',
      namespace: 'test',
      outputs: ['answer'],
      trust: 'trusted',
    };
    const placed = first.place!(req);
    expect(placed).toEqual({ placement: { cluster: 'west', namespace: NS } });
    await first.start(req);
    await first.close!(); // the engine "crashes": the Job keeps running on west
    // The operator moves `gpu` to east meanwhile; the recorded placement still says west.
    const moved = { ...config.kubernetes, resourceClasses: { ...config.kubernetes.resourceClasses } };
    moved.resourceClasses.gpu = { ...moved.resourceClasses.gpu, cluster: 'east' };
    const second = createKubernetesRunner(moved);
    const handle = await second.reattach!(req, {
      redact: [],
      outputs: ['answer'],
      ...('placement' in placed ? { placement: placed.placement } : {}),
    });
    expect(handle).toBeDefined();
    expect(await handle!.wait()).toMatchObject({ outcome: 'succeeded', outputs: { answer: '7' } });
    expect(await jobsOfRun(west, req.runId)).toEqual(['train']);
    expect(await jobsOfRun(east, req.runId)).toEqual([]);
    // Without the record, today's config would look on east and find nothing there.
    const blind = await second.reattach!(
      { ...req, namespace: 'test', resources: 'gpu' } as RunnerStartRequest,
      {
        redact: [],
        outputs: [],
      },
    );
    expect(blind).toBeUndefined();
    await second.close!();
  }, 90_000);
});
