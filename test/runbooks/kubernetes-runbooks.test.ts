/**
 * The `rollback` and `deploy-promote` runbooks (blueprints/runbooks/) end to end on the Kubernetes
 * test control plane, with the real Deployment and ReplicaSet controllers: each step acts only
 * through the Kubernetes API, with a token the API server issued (TokenRequest) to a service
 * account whose Roles allow reading and patching Deployments and reading ReplicaSets in the two
 * environments, nothing more. `rollback` runs through `maestro run` (the secrets as
 * MAESTRO_SECRET_* variables); `deploy-promote` is triggered through
 * POST /v1/runbooks/{namespace}/{name}/trigger, waits for the approval another person gives,
 * then promotes. What kwok simulates: the kubelet (pods are marked Running and Ready, no
 * container runs); the controllers that roll the Deployment are real.
 */
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/index.ts';
import { openStore } from '../../engine/index.ts';
import { startApi, type ApiHarness } from '../api/api-harness.ts';
import { shellIo } from '../cli-helpers.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { servedChain } from '../helpers/served-chain.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startTestCluster, type TestCluster } from '../setup/k8s-cluster.ts';

const root = join(import.meta.dirname, '..', '..');
const runbook = (name: string) => join(root, 'blueprints', 'runbooks', `${name}.yaml`);
const DEV = 'shop-dev';
const STAGING = 'shop-staging';
const SA_NS = 'ops-runbooks';

let cluster: TestCluster;
let apps: AppsV1Api;
let kubeToken: string;
let caPem: string;

function deployment(image: string): V1Deployment {
  return {
    metadata: { name: 'web' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          nodeSelector: { type: 'kwok' },
          // kwok keeps the pod Running this long (the container never runs: kwok is the kubelet).
          containers: [{ name: 'web', image, env: [{ name: 'SIM_RUN_FOR', value: '1h' }] }],
        },
      },
    },
  };
}

async function rolledOut(namespace: string, image: string): Promise<V1Deployment> {
  return waitFor(
    `${namespace}/web to run ${image}`,
    async () => {
      const d = await apps.readNamespacedDeployment({ namespace, name: 'web' });
      const done =
        (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
        d.status?.updatedReplicas === 2 &&
        d.status?.replicas === 2 &&
        d.spec?.template.spec?.containers[0]?.image === image;
      return done ? d : undefined;
    },
    { timeoutMs: 120_000 },
  );
}

const revisionOf = (d: V1Deployment) => d.metadata?.annotations?.['deployment.kubernetes.io/revision'];

/** A service account allowed what the two runbooks need in the two environments, and its token. */
async function scopedToken(): Promise<string> {
  const core = cluster.admin.makeApiClient(CoreV1Api);
  const rbac = cluster.admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace: SA_NS, body: { metadata: { name: 'runbooks' } } });
  for (const namespace of [DEV, STAGING]) {
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'runbooks-deploy' },
        rules: [
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] },
          { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'runbooks-deploy' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'runbooks-deploy' },
        subjects: [{ kind: 'ServiceAccount', name: 'runbooks', namespace: SA_NS }],
      },
    });
  }
  const request = await core.createNamespacedServiceAccountToken({
    namespace: SA_NS,
    name: 'runbooks',
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return request.status!.token!;
}

beforeAll(async () => {
  cluster = await startTestCluster({ extraControllers: ['deployment-controller', 'replicaset-controller'] });
  apps = cluster.admin.makeApiClient(AppsV1Api);
  const core = cluster.admin.makeApiClient(CoreV1Api);
  for (const name of [DEV, STAGING, SA_NS]) await core.createNamespace({ body: { metadata: { name } } });
  await apps.createNamespacedDeployment({
    namespace: DEV,
    body: deployment('registry.example/shop/web:1.1.0'),
  });
  await apps.createNamespacedDeployment({
    namespace: STAGING,
    body: deployment('registry.example/shop/web:1.0.0'),
  });
  await rolledOut(STAGING, 'registry.example/shop/web:1.0.0');
  kubeToken = await scopedToken();
  caPem = await servedChain(cluster.apiserverUrl);
}, 600_000);
afterAll(async () => cluster?.stop());

describe('the runbooks act with a scoped service-account token', () => {
  it('which cannot read Secrets or delete the Deployment it may patch', async () => {
    const headers = { authorization: `Bearer ${kubeToken}` };
    const get = (path: string, method = 'GET') =>
      new Promise<number>((resolve, reject) => {
        const url = new URL(path, cluster.apiserverUrl);
        const req = httpsRequest(url, { method, headers, ca: caPem }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get(`/apis/apps/v1/namespaces/${STAGING}/deployments/web`)).toBe(200);
    expect(await get(`/api/v1/namespaces/${STAGING}/secrets`)).toBe(403);
    expect(await get(`/apis/apps/v1/namespaces/${STAGING}/deployments/web`, 'DELETE')).toBe(403);
    expect(await get(`/apis/apps/v1/namespaces/default/deployments`)).toBe(403);
  }, 60_000);
});

describe('rollback (maestro run)', () => {
  it('returns the Deployment to its previous revision and verifies the rollout', async () => {
    // A bad release reaches staging: revision 2. Read, change, replace: again on a 409, since the
    // controllers may still be writing the Deployment's status (its resourceVersion moves).
    for (let tries = 1; ; tries += 1) {
      const current = await apps.readNamespacedDeployment({ namespace: STAGING, name: 'web' });
      current.spec!.template.spec!.containers[0]!.image = 'registry.example/shop/web:1.0.1-bad';
      // The bad release also adds an env var: the rollback must take it away, not merge around it.
      current.spec!.template.spec!.containers[0]!.env!.push({ name: 'FEATURE_X', value: 'on' });
      try {
        await apps.replaceNamespacedDeployment({ namespace: STAGING, name: 'web', body: current });
        break;
      } catch (error) {
        if ((error as { code?: number }).code !== 409 || tries === 10) throw error;
      }
    }
    const bad = await rolledOut(STAGING, 'registry.example/shop/web:1.0.1-bad');
    expect(revisionOf(bad)).toBe('2');

    const dataDir = tempDir('maestro-rollback-');
    const io = shellIo(root, {
      MAESTRO_DATA_DIR: dataDir,
      MAESTRO_SECRET_KUBE_TOKEN: kubeToken,
      MAESTRO_SECRET_KUBE_CA_PEM: caPem,
    });
    const args = ['run', runbook('rollback'), '--param', `kubeApi=${cluster.apiserverUrl}`];
    args.push('--param', `namespace=${STAGING}`, '--param', 'deployment=web');
    expect(await runCli(args, io), io.out() + io.err()).toBe(0);

    const back = await rolledOut(STAGING, 'registry.example/shop/web:1.0.0');
    // The controller re-used the first ReplicaSet (same template) and gave it the next revision.
    expect(revisionOf(back)).toBe('3');
    const sets = await apps.listNamespacedReplicaSet({ namespace: STAGING });
    const byImage = new Map(sets.items.map((rs) => [rs.spec!.template!.spec!.containers[0]!.image, rs]));
    expect(byImage.size).toBe(2);
    expect(byImage.get('registry.example/shop/web:1.0.0')!.spec!.replicas).toBe(2);
    expect(byImage.get('registry.example/shop/web:1.0.1-bad')!.spec!.replicas).toBe(0);
    expect(back.spec!.template.spec!.containers[0]!.env!.map((e) => e.name)).toEqual(['SIM_RUN_FOR']);
    const store = openStore({ dataDir });
    try {
      const [run] = store.listRuns();
      expect(run).toMatchObject({ status: 'succeeded', workflow: 'rollback' });
      const verify = store.listAttempts(run!.id, 'verify')[0]!;
      expect(verify.outputs).toEqual({ revision: '3', verified: 'true' });
      expect(store.listAttempts(run!.id, 'undo')[0]!.outputs).toEqual({
        fromRevision: '2',
        toRevision: '1',
        image: 'registry.example/shop/web:1.0.0',
      });
      // The token never reached the logs.
      const logs = store
        .listLogs(run!.id)
        .map((l) => l.text)
        .join('\n');
      expect(logs).not.toContain(kubeToken);
    } finally {
      store.close();
    }
  }, 300_000);
});

describe('deploy-promote (the trigger API)', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({
      runbooks: 'namespaces:\n  ops: [deploy-promote, rollback]\n',
      env: { MAESTRO_SECRET_KUBE_TOKEN: kubeToken, MAESTRO_SECRET_KUBE_CA_PEM: caPem },
    });
    const stored = await api.call('POST', '/v1/workflows', {
      raw: readFileSync(runbook('deploy-promote'), 'utf8'),
      contentType: 'application/yaml',
    });
    expect(stored.status).toBe(201);
  });
  afterAll(async () => api?.close());

  it('waits for the approval, then promotes dev’s release to staging and verifies it', async () => {
    const trigger = await api.mint(['runbooks:trigger'], { user: 'sig', namespaces: ['ops'] });
    const answer = await api.call('POST', '/v1/runbooks/{namespace}/{name}/trigger', {
      token: trigger,
      params: { namespace: 'ops', name: 'deploy-promote' },
      body: {
        contractVersion: 3,
        correlationId: 'release-1.1.0',
        purpose: 'release',
        authority: 'team:release',
        license: 'internal',
        params: { kubeApi: cluster.apiserverUrl, from: DEV, to: STAGING, deployment: 'web' },
      },
    });
    expect(answer, JSON.stringify(answer.body)).toMatchObject({ status: 202 });
    const runId = answer.body.runId as string;
    const waiting = await api.call('GET', '/v1/runs/{id}', { params: { id: runId } });
    expect(waiting.body.run.status).toBe('waiting_for_approval');
    // Nothing was promoted before the approval.
    const before = await apps.readNamespacedDeployment({ namespace: STAGING, name: 'web' });
    expect(before.spec!.template.spec!.containers[0]!.image).not.toBe('registry.example/shop/web:1.1.0');

    const approver = await api.mint(['approvals:write', 'runs:read'], { user: 'release-manager' });
    const approved = await api.call('POST', '/v1/runs/{id}/approvals', {
      params: { id: runId },
      token: approver,
    });
    expect(approved.body).toMatchObject({ satisfied: true });
    const done = await api.settle(runId);
    expect(done.body.run.status, JSON.stringify(done.body.tasks)).toBe('succeeded');
    const after = await rolledOut(STAGING, 'registry.example/shop/web:1.1.0');
    expect(after.metadata!.annotations!['maestro.dev/promoted-from']).toBe(DEV);
    const verify = done.body.tasks.find((t: { id: string }) => t.id === 'verify');
    expect(verify.attempts.at(-1).outputs).toMatchObject({ verified: 'true' });
  }, 300_000);
});
