/**
 * The CI/CD blueprint (blueprints/ci-cd) end to end on the App path: a repository in the GitHub
 * stand-in (signed webhook deliveries as GitHub sends them, every REST call checked against
 * GitHub's OpenAPI description), the real App runtime, the Kubernetes test control plane (real
 * API server, Deployment and ReplicaSet controllers; kwok plays the kubelet) and the test OCI
 * registry. Two instantiations on main, staging (on push) and prod (on push, one approving review):
 * - a push builds the image with Podman (a host-access step the runners config grants), pushes it
 *   and deploys it to staging by digest; prod is refused (no approval attestation) and unchanged;
 * - a promotion pull request approved by a reviewer (the signed gate, bound to prod's plan digest)
 *   is merged: the push runs prod, which deploys the new digest, fails its health check, and rolls
 *   back to the digest it replaced; the run fails with every step's receipt.
 * The deploy steps act only through the Kubernetes API with a service-account token the API server
 * issued (TokenRequest), allowed to get and patch Deployments in the two namespaces.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { AppsV1Api, CoreV1Api, RbacAuthorizationV1Api, type V1Deployment } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { grantPermissions, OWNER, REPO, startHarness, type Harness } from '../github-standin/app-harness.ts';
import { tempDir } from '../helpers/engine-fixtures.ts';
import { servedChain } from '../helpers/served-chain.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { startTestCluster, type TestCluster } from '../setup/k8s-cluster.ts';
import { startOciRegistry, type OciRegistry } from '../setup/oci-registry.ts';

const STAGING = 'shop-staging';
const PROD = 'shop-prod';
let cluster: TestCluster;
let apps: AppsV1Api;
let registry: OciRegistry;
let health: Server;
let healthUrl: string;
let h: Harness | undefined;
let d0: string;
const healthHits: string[] = [];

function deployment(image: string): V1Deployment {
  return {
    metadata: { name: 'shop' },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'shop' } },
      template: {
        metadata: { labels: { app: 'shop' } },
        spec: {
          nodeSelector: { type: 'kwok' },
          containers: [{ name: 'shop', image, env: [{ name: 'SIM_RUN_FOR', value: '1h' }] }],
        },
      },
    },
  };
}

const imageOf = async (namespace: string) =>
  (await apps.readNamespacedDeployment({ namespace, name: 'shop' })).spec!.template.spec!.containers[0]!
    .image!;

async function rolledOut(namespace: string, image: string): Promise<void> {
  await waitFor(
    `${namespace}/shop to run ${image}`,
    async () => {
      const d = await apps.readNamespacedDeployment({ namespace, name: 'shop' });
      return (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 1) &&
        d.status?.updatedReplicas === 2 &&
        d.spec?.template.spec?.containers[0]?.image === image
        ? true
        : undefined;
    },
    { timeoutMs: 120_000 },
  );
}

/** A service account allowed to get and patch Deployments in the two environments, and its token. */
async function scopedToken(): Promise<string> {
  const core = cluster.admin.makeApiClient(CoreV1Api);
  const rbac = cluster.admin.makeApiClient(RbacAuthorizationV1Api);
  await core.createNamespacedServiceAccount({ namespace: STAGING, body: { metadata: { name: 'deployer' } } });
  for (const namespace of [STAGING, PROD]) {
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'deployer' },
        rules: [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'patch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'deployer' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'deployer' },
        subjects: [{ kind: 'ServiceAccount', name: 'deployer', namespace: STAGING }],
      },
    });
  }
  const request = await core.createNamespacedServiceAccountToken({
    namespace: STAGING,
    name: 'deployer',
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  return request.status!.token!;
}

/** One environment's instantiation of the blueprint, as a team would commit it. */
function workflow(env: 'staging' | 'prod'): string {
  const approvals = env === 'prod' ? '\n        approvals: { required: 1 }' : '';
  return `apiVersion: maestro/v1
kind: Workflow
metadata: { name: shop-${env}, namespace: shop }
spec:
  triggers: { push: { branches: [main] } }
  params:
    kubeApi: { type: string, default: '${cluster.apiserverUrl}' }
  blueprint:
    uses: blueprints/ci-cd@1
    with:
      app: shop
      build: mkdir -p dist && cp src/app.txt dist/app.txt && echo built
      test: grep -q 'hello' src/app.txt
      image: { repository: ${registry.host}/shop, tlsVerify: false }
      environment:
        name: ${env}
        namespace: shop-${env}${approvals}
        healthCheck: { url: '${healthUrl}/${env}', attempts: 2 }
        policy: { purpose: release, authority: 'team:shop', license: internal }
`;
}

beforeAll(async () => {
  cluster = await startTestCluster({ extraControllers: ['deployment-controller', 'replicaset-controller'] });
  apps = cluster.admin.makeApiClient(AppsV1Api);
  const core = cluster.admin.makeApiClient(CoreV1Api);
  for (const name of [STAGING, PROD]) await core.createNamespace({ body: { metadata: { name } } });
  registry = await startOciRegistry();
  // The release running before: v0, by digest, in both environments.
  d0 = `${registry.host}/shop@${registry.pushImage('shop', 'v0', 'v0').digest}`;
  for (const namespace of [STAGING, PROD]) {
    await apps.createNamespacedDeployment({ namespace, body: deployment(d0) });
    await rolledOut(namespace, d0);
  }
  // The application's health endpoint: staging is healthy, prod is not (the new release breaks it).
  health = createServer((req, res) => {
    healthHits.push(req.url ?? '');
    res.writeHead(req.url === '/prod' ? 503 : 200).end();
  });
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  healthUrl = `http://127.0.0.1:${(health.address() as { port: number }).port}`;
  const runners = join(tempDir('maestro-cicd-'), 'runners.yaml');
  writeFileSync(runners, 'local:\n  hostAccess: granted\n');
  h = await startHarness({
    runUpdateIntervalMs: 200,
    env: {
      MAESTRO_RUNNERS_CONFIG: runners,
      MAESTRO_SECRET_KUBE_TOKEN: await scopedToken(),
      MAESTRO_SECRET_KUBE_CA_PEM: await servedChain(cluster.apiserverUrl),
    },
  });
  grantPermissions(h.standin, { carol: 'admin', alice: 'write', bob: 'write' });
}, 600_000);
afterAll(async () => {
  await h?.close();
  health?.close();
  await registry?.stop();
  await cluster?.stop();
});

const checkOf = (workflowName: string, sha: string) =>
  h!.standin.checkRunsNamed(`maestro / run shop/${workflowName}`, sha)[0];

async function runOf(workflowName: string, sha: string) {
  const runs = await h!.runtime.engineStore.listRuns();
  const run = runs.find((r) => r.workflow === workflowName && r.source?.commit === sha);
  expect(run, `a ${workflowName} run at ${sha}`).toBeDefined();
  return run!;
}

describe('blueprints/ci-cd on the App, the GitHub stand-in and the Kubernetes control plane', () => {
  let pushed: string;
  let stagingImage: string;

  it('a push builds the image, deploys it to staging by digest; prod waits for an approval', async () => {
    const repo = h!.repo;
    const base = repo.commit({
      branch: 'main',
      login: 'carol',
      files: {
        '.maestro/workflows/shop-staging.yaml': workflow('staging'),
        '.maestro/workflows/shop-prod.yaml': workflow('prod'),
        Containerfile: 'FROM scratch\nCOPY src/app.txt /app.txt\n',
        'src/app.txt': 'hello v0\n',
      },
    });
    pushed = repo.commit({ branch: 'main', login: 'carol', files: { 'src/app.txt': 'hello v1\n' } });
    await h!.deliver(
      'push',
      h!.pushPayload({
        ref: 'refs/heads/main',
        before: base,
        after: pushed,
        pusher: 'carol',
        files: ['src/app.txt'],
      }),
    );
    await h!.idle();
    const staging = checkOf('shop-staging', pushed)!;
    const run = await runOf('shop-staging', pushed);
    const imageLogs = (await h!.runtime.engineStore.listLogs(run.id, 'image')).map((l) => l.text).join('\n');
    expect(staging.conclusion, imageLogs).toBe('success');
    const built = (await h!.runtime.engineStore.taskOutputs(run.id, 'image')).image!;
    expect(built).toMatch(new RegExp(`^${registry.host}/shop@sha256:[0-9a-f]{64}$`));
    expect(built).not.toBe(d0);
    stagingImage = built;
    expect(await imageOf(STAGING)).toBe(built);
    expect(await h!.runtime.engineStore.taskOutputs(run.id, 'deploy')).toEqual({ previousImage: d0 });
    expect(await h!.runtime.engineStore.taskOutputs(run.id, 'health')).toEqual({ healthy: 'true' });
    // Every step that ran has a signed receipt.
    const receipts = await h!.runtime.engineStore.listReceipts(run.id);
    // Every task's receipt, and the run's own (task id '').
    expect(new Set(receipts.map((r) => r.taskId))).toEqual(
      new Set(['', 'build', 'test', 'image', 'deploy', 'verify', 'health']),
    );
    // Prod needs an approving review: the push alone deploys nothing there.
    const prod = checkOf('shop-prod', pushed)!;
    expect(prod.conclusion).toBe('action_required');
    expect(prod.output.summary).toContain('no approval attestation exists');
    expect(await imageOf(PROD)).toBe(d0);
  }, 600_000);

  it('an approved promotion deploys to prod, fails its health check and rolls back to the previous digest', async () => {
    const repo = h!.repo;
    const head = repo.commit({
      branch: 'release',
      from: pushed,
      login: 'alice',
      files: { 'CHANGELOG.md': 'promote v1 to prod\n' },
    });
    const pull = {
      number: 5,
      author: 'alice',
      headSha: head,
      headRef: 'release',
      baseRef: 'main',
      headRepo: `${OWNER}/${REPO}`,
    };
    h!.standin.pulls.set(`${OWNER}/${REPO}#5`, pull);
    await h!.deliver(
      'push',
      h!.pushPayload({
        ref: 'refs/heads/release',
        before: pushed,
        after: head,
        pusher: 'alice',
        files: ['CHANGELOG.md'],
      }),
    );
    h!.standin.reviews.set(`${OWNER}/${REPO}#5`, [
      {
        id: 501,
        login: 'bob',
        state: 'APPROVED',
        commitId: head,
        submittedAt: new Date(Date.now() - 60_000).toISOString(),
      },
    ]);
    await h!.deliver(
      'pull_request_review',
      h!.reviewPayload('submitted', { number: 5, headSha: head, author: 'alice' }, 'bob'),
    );
    await h!.idle();
    const gates = h!.standin.checkRunsNamed('maestro / approval', head);
    expect(gates.map((g) => g.conclusion)).toContain('success');

    const merged = repo.commit({
      branch: 'main',
      from: head,
      login: 'carol',
      files: { 'CHANGELOG.md': 'promote v1 to prod (merged)\n' },
    });
    Object.assign(pull, { state: 'closed', merged: true, mergeCommitSha: merged });
    await h!.deliver(
      'pull_request',
      h!.pullRequestPayload('closed', {
        number: 5,
        headSha: head,
        author: 'alice',
        sender: 'carol',
        merged: true,
        mergeCommitSha: merged,
      }),
    );
    await h!.idle();
    await h!.deliver(
      'push',
      h!.pushPayload({
        ref: 'refs/heads/main',
        before: pushed,
        after: merged,
        pusher: 'carol',
        files: ['CHANGELOG.md'],
      }),
    );
    await h!.idle();

    const prod = checkOf('shop-prod', merged)!;
    expect(prod.conclusion, prod.output.summary).toBe('failure');
    expect(prod.output.summary).toContain('approval attestation');
    const run = await runOf('shop-prod', merged);
    const released = (await h!.runtime.engineStore.taskOutputs(run.id, 'image')).image!;
    expect(released).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect(released).not.toBe(d0);
    // It was deployed (the deploy step replaced d0), judged unhealthy, and rolled back to d0.
    expect(await h!.runtime.engineStore.taskOutputs(run.id, 'deploy')).toEqual({ previousImage: d0 });
    expect(await h!.runtime.engineStore.taskOutputs(run.id, 'health')).toEqual({ healthy: 'false' });
    expect(healthHits).toContain('/prod');
    await rolledOut(PROD, d0);
    expect(await imageOf(PROD)).toBe(d0);
    const tasks = Object.fromEntries(
      (await h!.runtime.engineStore.listTasks(run.id)).map((t) => [t.taskId, t.state]),
    );
    expect(tasks).toMatchObject({
      deploy: 'succeeded',
      verify: 'succeeded',
      health: 'succeeded',
      rollback: 'failed',
    });
    const logs = (await h!.runtime.engineStore.listLogs(run.id, 'rollback')).map((l) => l.text).join('\n');
    expect(logs).toContain(`back to ${d0}`);
    const receipts = await h!.runtime.engineStore.listReceipts(run.id);
    // Every task's receipt, and the run's own (task id '').
    expect(new Set(receipts.map((r) => r.taskId))).toEqual(
      new Set(['', 'build', 'test', 'image', 'deploy', 'verify', 'health', 'rollback']),
    );
    // Staging, healthy, keeps the release of this push.
    expect(checkOf('shop-staging', merged)!.conclusion).toBe('success');
    expect(await imageOf(STAGING)).not.toBe(d0);
    // The same sources build to the same digest (Podman's layers), so staging keeps that release.
    expect(await imageOf(STAGING)).toBe(stagingImage);
    expect(h!.standin.violations).toEqual([]);
  }, 900_000);
});
