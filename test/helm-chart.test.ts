/**
 * The Helm chart (deploy/helm/maestro), rendered by the real Helm (scripts/setup/helm.sh) and
 * sent to the real API server of the test control plane (test/setup/k8s-cluster.ts) with
 * server-side dry-run: schema validation, admission (Pod Security included) and RBAC checks all
 * run, nothing is stored. The server namespace is labelled enforce=restricted and warn=restricted:
 * enforce refuses only Pods, so a privileged Deployment is still admitted; what Pod Security says
 * about the Deployment's pod template comes back as Warning headers, collected here, and the test
 * asserts there are none.
 * The chart's RBAC is then applied for real, and the Kubernetes runner runs an attempt with the
 * chart's ServiceAccount token: the Role is enough for it, and SubjectAccessReviews show it is
 * nothing more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { LogLine } from '../core/index.ts';
import { createKubernetesRunner } from '../runners/kubernetes/index.ts';
import { KWOK_POD_LOG, startTestCluster, type TestCluster } from './setup/k8s-cluster.ts';
import { lintChart, podOf, renderChart } from './helpers/helm-template.ts';
import {
  createNamespace as createNamespaceIn,
  dryRunApply as dryRun,
  RESTRICTED,
  type DryRun,
} from './helpers/k8s-dry-run.ts';

const RELEASE = 'ci';
const NS = 'maestro';
const RUNS_NS = 'maestro-runs';
const SERVICE_ACCOUNT = `system:serviceaccount:${NS}:${RELEASE}-maestro`;

let cluster: TestCluster;
let core: CoreV1Api;

function render(set: string[] = []): Promise<KubernetesObject[]> {
  return renderChart(RELEASE, NS, set);
}

async function renderError(set: string[]): Promise<string> {
  try {
    await render(set);
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  throw new Error(`helm template ${set.join(' ')} rendered`);
}

/** Server-side dry run (test/helpers/k8s-dry-run.ts); objects without a namespace go to the release's. */
function dryRunApply(objects: KubernetesObject[], namespace?: string): Promise<DryRun> {
  return dryRun(cluster.admin, objects, NS, namespace);
}

function createNamespace(name: string, labels: Record<string, string>): Promise<void> {
  return createNamespaceIn(core, name, labels);
}

/** Creates the rendered objects of these kinds for real (not a dry run). */
async function applyKinds(kinds: string[], namespace?: string): Promise<void> {
  const api = KubernetesObjectApi.makeApiClient(cluster.admin);
  for (const o of (await render()).filter((x) => kinds.includes(x.kind!)))
    await api.create({ ...o, metadata: { ...o.metadata, ...(namespace ? { namespace } : {}) } });
}

beforeAll(async () => {
  cluster = await startTestCluster();
  core = cluster.admin.makeApiClient(CoreV1Api);
  await createNamespace(NS, RESTRICTED);
  await createNamespace(RUNS_NS, RESTRICTED);
  await createNamespace('enforce-only', {
    'pod-security.kubernetes.io/enforce': 'restricted',
    'pod-security.kubernetes.io/enforce-version': 'latest',
  });
  await createNamespace('unlabelled', {});
  // A Pod's ServiceAccount must exist before admission looks further (the pod probes below).
  await applyKinds(['ServiceAccount']);
  await applyKinds(['ServiceAccount'], 'enforce-only');
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('the Helm chart on the real API server (server-side dry-run)', () => {
  it('renders the defaults, and the API server admits every object with zero warnings', async () => {
    const objects = await render();
    expect(objects.map((o) => o.kind).sort()).toEqual(
      [
        'ConfigMap',
        'Deployment',
        'NetworkPolicy',
        'PodDisruptionBudget',
        'Role',
        'RoleBinding',
        'Service',
        'ServiceAccount',
      ].sort(),
    );
    // Each object names its namespace, so `helm template … | kubectl apply -f -` lands where helm would.
    for (const o of objects)
      expect(o.metadata?.namespace, o.kind).toBe(['Role', 'RoleBinding'].includes(o.kind!) ? RUNS_NS : NS);
    const result = await dryRunApply(objects);
    expect(result.refused).toEqual({});
    expect(result.warnings).toEqual([]);
    // The server's own NetworkPolicy selects its pods, in both directions (the hardening check's
    // pod-networkpolicy, once an exception).
    const policy = objects.find((o) => o.kind === 'NetworkPolicy') as unknown as {
      spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[] };
    };
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { metadata: { labels: Record<string, string> } } };
    };
    expect(deployment.spec.template.metadata.labels).toMatchObject(policy.spec.podSelector.matchLabels);
    expect(policy.spec.policyTypes.sort()).toEqual(['Egress', 'Ingress']);
    expect(result.accepted).toHaveLength(objects.length);
    // The pod itself, as enforce mode sees it: admitted, no warnings.
    const pod = await dryRunApply([podOf(objects)]);
    expect(pod).toEqual({ refused: {}, warnings: [], accepted: ['Pod/template-probe'] });
  });

  it('every option on (App, signing keys, run secrets, one replica on SQLite) is admitted with zero warnings', async () => {
    const objects = await render([
      'app.existingSecret=maestro-github-app',
      'signing.existingSecret=maestro-signing',
      'runSecrets.existingSecret=maestro-run-secrets',
      'server.env.MAESTRO_POLICY=default',
    ]);
    const deployment = objects.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { initContainers: unknown[] } } };
    };
    expect(deployment.spec.template.spec.initContainers).toHaveLength(1);
    const result = await dryRunApply([...objects, podOf(objects)]);
    expect(result.refused).toEqual({});
    expect(result.warnings).toEqual([]);
    const single = await render(['replicaCount=1', 'database.existingSecret=', 'runners=null']);
    expect(single.map((o) => o.kind)).not.toContain('PodDisruptionBudget');
    expect(single.map((o) => o.kind)).not.toContain('Role');
    const singleResult = await dryRunApply([...single, podOf(single)]);
    expect(singleResult.refused).toEqual({});
    expect(singleResult.warnings).toEqual([]);
  });

  it('the attack: values that leave the restricted profile are warned about on the Deployment and refused on its Pod', async () => {
    for (const [override, expected] of [
      // privileged needs allowPrivilegeEscalation too (the API server's own validation).
      ['securityContext.privileged=true,securityContext.allowPrivilegeEscalation=true', /privileged/],
      ['podSecurityContext.runAsUser=0', /runAsUser=0/],
      ['securityContext.capabilities.add={NET_ADMIN}', /NET_ADMIN/],
      ['securityContext.allowPrivilegeEscalation=true', /allowPrivilegeEscalation/],
    ] as const) {
      const objects = await render([override]);
      const result = await dryRunApply(objects);
      // enforce does not apply to Deployments: accepted, but warn mode names the violation.
      expect(result.refused, override).toEqual({});
      expect(result.warnings.join('\n'), override).toMatch(expected);
      expect(result.warnings.join('\n'), override).toMatch(/violate PodSecurity "restricted:latest"/);
      const pod = await dryRunApply([podOf(objects)]);
      expect(pod.refused['Pod/template-probe'], override).toMatch(/violates PodSecurity "restricted:latest"/);
    }
  });

  it('enforce alone admits a privileged Deployment (it refuses only Pods); an unlabelled namespace says nothing', async () => {
    const objects = await render([
      'securityContext.privileged=true,securityContext.allowPrivilegeEscalation=true',
    ]);
    const deployment = objects.filter((o) => o.kind === 'Deployment');
    // Stored as it is: a warning is all there is, so the zero-warnings assertions above are the check.
    const enforced = await dryRunApply(deployment, 'enforce-only');
    expect(enforced.refused).toEqual({});
    expect(enforced.warnings.join('\n')).toMatch(/would violate PodSecurity "restricted:latest": privileged/);
    const pod = await dryRunApply([podOf(objects)], 'enforce-only');
    expect(pod.refused['Pod/template-probe']).toMatch(/violates PodSecurity "restricted:latest": privileged/);
    // The control: the warnings come from the namespace's labels, not from the chart or the client.
    const unlabelled = await dryRunApply(deployment, 'unlabelled');
    expect(unlabelled).toEqual({ refused: {}, warnings: [], accepted: ['Deployment/ci-maestro'] });
  });

  it('passes `helm lint --strict`, with the defaults and on one replica without a database', async () => {
    expect(await lintChart()).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(await lintChart(['replicaCount=1', 'database.existingSecret=', 'runners=null'])).toMatch(
      /0 chart\(s\) failed/,
    );
  });

  it('refuses values that cannot work, naming the value', async () => {
    expect(await renderError(['database.existingSecret='])).toMatch(
      /replicaCount is 2 but database.existingSecret is not set/,
    );
    expect(await renderError(['replicaCount=0'])).toMatch(/\/replicaCount.*minimum/);
    expect(await renderError(['replicas=3'])).toMatch(/additional properties 'replicas' not allowed/);
    expect(await renderError(['runners.kubernetes.namespaces.default=Not_A_Namespace'])).toMatch(
      /runners\/kubernetes\/namespaces\/default/,
    );
    expect(await renderError(['runners.kubernetes.kubeconfig=/etc/kube'])).toMatch(/kubeconfig is set/);
  });
});

describe("the chart's RBAC is what the Kubernetes runner needs, and no more", () => {
  let kubeconfigDir: string;

  beforeAll(async () => {
    await applyKinds(['Role', 'RoleBinding']);
    kubeconfigDir = mkdtempSync(join(tmpdir(), 'maestro-helm-sa-'));
  });

  afterAll(() => rmSync(kubeconfigDir, { recursive: true, force: true }));

  async function serviceAccountKubeconfig(): Promise<string> {
    const request = await core.createNamespacedServiceAccountToken({
      name: `${RELEASE}-maestro`,
      namespace: NS,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const file = join(kubeconfigDir, 'sa.kubeconfig');
    writeFileSync(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: test, cluster: {server: "${cluster.apiserverUrl}", insecure-skip-tls-verify: true}}]`,
        `users: [{name: sa, user: {token: "${request.status!.token}"}}]`,
        'contexts: [{name: test, context: {cluster: test, user: sa}}]',
        'current-context: test',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    return file;
  }

  it('runs an attempt (Job, per-attempt Secret, pod watch, log stream) with the chart ServiceAccount token', async () => {
    const runner = createKubernetesRunner({
      kubeconfig: await serviceAccountKubeconfig(),
      namespaces: { default: RUNS_NS },
      defaultImage: 'registry.example/maestro/task:1',
      resourceClasses: {
        small: { requests: { cpu: '100m', memory: '64Mi' }, nodeSelector: { type: 'kwok' } },
      },
    });
    const runId = `helm-${Date.now().toString(36)}`;
    const handle = await runner.start({
      runId,
      taskId: 'build',
      attempt: 1,
      attemptId: `${runId}/build/1`,
      command: { kind: 'shell', script: 'echo "answer=42" > "$MAESTRO_OUTPUT"' },
      // TOKEN makes the runner create (and later delete) the attempt's Secret.
      env: { SIM_RUN_FOR: '2s', SIM_TERMINATION_MESSAGE: 'answer=42', TOKEN: 'not-in-the-job-spec' },
      redact: ['not-in-the-job-spec'],
      workDir: '/unused',
      artifactsDir: '/unused',
      resources: 'small',
      namespace: 'default',
      outputs: ['answer'],
    });
    const lines: LogLine[] = [];
    const [result] = await Promise.all([
      handle.wait(),
      (async () => {
        for await (const line of handle.logs()) lines.push(line);
      })(),
    ]);
    expect(result).toMatchObject({ outcome: 'succeeded', outputs: { answer: '42' } });
    expect(lines.map((l) => l.text)).toContain(KWOK_POD_LOG.at(-1)!.text);
    await runner.close?.();
  });

  it('may do nothing else: no reading Secrets, no Pods of its own, nothing outside the runner namespace', async () => {
    const authz = cluster.admin.makeApiClient(AuthorizationV1Api);
    const can = async (
      namespace: string,
      verb: string,
      resource: string,
      subresource?: string,
      group = '',
    ) => {
      const review = await authz.createSubjectAccessReview({
        body: {
          spec: {
            user: SERVICE_ACCOUNT,
            groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated'],
            resourceAttributes: { namespace, verb, resource, group, ...(subresource ? { subresource } : {}) },
          },
        },
      });
      return review.status!.allowed;
    };
    for (const verb of ['create', 'get', 'list', 'watch', 'patch', 'delete'])
      expect(await can(RUNS_NS, verb, 'jobs', undefined, 'batch'), `${verb} jobs`).toBe(true);
    expect(await can(RUNS_NS, 'get', 'pods', 'log')).toBe(true);
    for (const [verb, resource] of [
      ['get', 'secrets'],
      ['list', 'secrets'],
      ['watch', 'secrets'],
      ['update', 'secrets'],
      ['create', 'pods'],
      ['get', 'pods'],
      ['delete', 'pods'],
      ['create', 'pods/exec'],
      ['create', 'serviceaccounts/token'],
      ['create', 'roles'],
      ['update', 'jobs'],
    ] as const) {
      const [res, sub] = resource.split('/');
      const group = resource === 'roles' ? 'rbac.authorization.k8s.io' : resource === 'jobs' ? 'batch' : '';
      expect(await can(RUNS_NS, verb, res!, sub, group), `${verb} ${resource} in ${RUNS_NS}`).toBe(false);
    }
    for (const namespace of [NS, 'default', 'kube-system'])
      expect(await can(namespace, 'create', 'jobs', undefined, 'batch'), `create jobs in ${namespace}`).toBe(
        false,
      );
  });
});
