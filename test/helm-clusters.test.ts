/**
 * The Helm chart with several clusters (docs/server.md, "Several clusters"): a values file names
 * the cluster the chart runs in and another one whose kubeconfig is a Secret, pins namespaces
 * and a resource class to them; the chart renders the runners file the server reads
 * (MAESTRO_RUNNERS_CONFIG), mounts the Secret read-only into the server container alone, grants
 * its Role only in the namespaces of its own cluster, and the real API server of the test control
 * plane admits it all with zero warnings (server-side dry-run, namespaces labelled
 * enforce=restricted and warn=restricted). The rendered file is then read as the server reads it
 * and the Kubernetes runner built from it places tasks as the values asked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { CoreV1Api, KubernetesObjectApi, type KubernetesObject } from '@kubernetes/client-node';
import { RUNNER_FACTORIES, type RunnerFactoryContext } from '../runners/index.ts';
import { runtimeConfigFromEnv } from '../runtime/index.ts';
import { startTestCluster, type TestCluster } from './setup/k8s-cluster.ts';
import { CHART, podOf, renderChart } from './helpers/helm-template.ts';
import { createNamespace, dryRunApply, RESTRICTED } from './helpers/k8s-dry-run.ts';

const RELEASE = 'ci';
const NS = 'maestro';
const EAST_KUBECONFIG = '/etc/maestro/clusters/east/kubeconfig';

/** Two clusters: this one (no kubeconfig) and east (a kubeconfig from a Secret). */
const TWO_CLUSTERS = `
runners:
  kubernetes:
    clusters:
      here: {}
      east:
        kubeconfigSecret: maestro-kubeconfig-east
        context: east
    namespaces:
      default: maestro-runs
      web: { namespace: maestro-web, cluster: here }
      payments: { namespace: ci-payments, cluster: east }
    resourceClasses:
      gpu:
        cluster: east
        requests: { cpu: '1', memory: 1Gi }
        nodeSelector: { accelerator: nvidia }
`;

/** Only other clusters: the pod's own service account reaches nothing. */
const REMOTE_ONLY = `
runners:
  kubernetes:
    clusters:
      east: { kubeconfigSecret: maestro-kubeconfig-east }
      west: { kubeconfigSecret: maestro-kubeconfig-west, kubeconfigKey: config, context: west }
    defaultCluster: west
    namespaces:
      default: maestro-runs
      payments: { namespace: ci-payments, cluster: east }
`;

let cluster: TestCluster;
let dir: string;

type Deployment = KubernetesObject & {
  spec: {
    template: {
      spec: {
        automountServiceAccountToken: boolean;
        containers: {
          name: string;
          volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
        }[];
        initContainers?: { volumeMounts: { name: string }[] }[];
        volumes: { name: string; secret?: { secretName: string; items?: unknown[]; defaultMode?: number } }[];
      };
    };
  };
};

function valuesFile(name: string, text: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return file;
}

function render(values: string, set: string[] = []): Promise<KubernetesObject[]> {
  return renderChart(RELEASE, NS, set, CHART, [valuesFile('values', values)]);
}

async function renderError(values: string, set: string[] = []): Promise<string> {
  try {
    await render(values, set);
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  throw new Error('helm template rendered');
}

/** The runners file in the chart's ConfigMap, parsed. */
function runnersFileOf(objects: KubernetesObject[]): { kubernetes: Record<string, unknown> } {
  const map = objects.find((o) => o.kind === 'ConfigMap') as KubernetesObject & {
    data: Record<string, string>;
  };
  return load(map.data['runners.yaml']!) as { kubernetes: Record<string, unknown> };
}

function deploymentOf(objects: KubernetesObject[]): Deployment {
  return objects.find((o) => o.kind === 'Deployment') as Deployment;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-helm-clusters-'));
  cluster = await startTestCluster();
  const core = cluster.admin.makeApiClient(CoreV1Api);
  for (const ns of [NS, 'maestro-runs', 'maestro-web']) await createNamespace(core, ns, RESTRICTED);
  // The Pod probe below needs the chart's ServiceAccount to exist.
  const api = KubernetesObjectApi.makeApiClient(cluster.admin);
  for (const o of (await render(TWO_CLUSTERS)).filter((x) => x.kind === 'ServiceAccount'))
    await api.create(o);
}, 240_000);

afterAll(async () => {
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the Helm chart with two clusters', () => {
  it('renders the runners file as asked: the Secret becomes a kubeconfig path, the in-cluster one the default', async () => {
    const objects = await render(TWO_CLUSTERS);
    const { kubernetes } = runnersFileOf(objects);
    expect(kubernetes.clusters).toEqual({ here: {}, east: { kubeconfig: EAST_KUBECONFIG, context: 'east' } });
    expect(kubernetes.defaultCluster).toBe('here');
    expect(kubernetes.namespaces).toEqual({
      default: 'maestro-runs',
      web: { namespace: 'maestro-web', cluster: 'here' },
      payments: { namespace: 'ci-payments', cluster: 'east' },
    });
    expect(kubernetes.resourceClasses).toMatchObject({
      gpu: { cluster: 'east', nodeSelector: { accelerator: 'nvidia' } },
      small: { requests: { cpu: '250m', memory: '256Mi' } },
    });
    expect(kubernetes).not.toHaveProperty('kubeconfig');
    // Nothing of the Secret but its mount path: the chart never holds a kubeconfig.
    expect(JSON.stringify(objects)).not.toMatch(/kubeconfigSecret/);
  });

  it('mounts the kubeconfig Secret read-only into the server container alone; Roles only on this cluster', async () => {
    const objects = await render(TWO_CLUSTERS, ['signing.existingSecret=maestro-signing']);
    const pod = deploymentOf(objects).spec.template.spec;
    expect(pod.volumes.find((v) => v.name === 'kubeconfig-east')).toEqual({
      name: 'kubeconfig-east',
      secret: {
        secretName: 'maestro-kubeconfig-east',
        items: [{ key: 'kubeconfig', path: 'kubeconfig' }],
        defaultMode: 0o440,
      },
    });
    expect(pod.volumes.filter((v) => v.name.startsWith('kubeconfig-')).map((v) => v.name)).toEqual([
      'kubeconfig-east',
    ]);
    const server = pod.containers.find((c) => c.name === 'server')!;
    expect(server.volumeMounts).toContainEqual({
      name: 'kubeconfig-east',
      mountPath: '/etc/maestro/clusters/east',
      readOnly: true,
    });
    for (const init of pod.initContainers ?? [])
      expect(init.volumeMounts.map((m) => m.name)).not.toContain('kubeconfig-east');
    // The in-cluster cluster reaches its namespaces with the pod's token; east's are not this cluster's.
    expect(pod.automountServiceAccountToken).toBe(true);
    const roles = objects.filter((o) => o.kind === 'Role').map((o) => o.metadata!.namespace);
    expect(roles).toEqual(['maestro-runs', 'maestro-web']);
    expect(objects.filter((o) => o.kind === 'RoleBinding').map((o) => o.metadata!.namespace)).toEqual(roles);
  });

  it('the API server admits every object and the pod with zero warnings', async () => {
    const objects = await render(TWO_CLUSTERS);
    const result = await dryRunApply(cluster.admin, [...objects, podOf(objects)], NS);
    expect(result.refused).toEqual({});
    expect(result.warnings).toEqual([]);
    expect(result.accepted).toHaveLength(objects.length + 1);
  });

  it('the server reads the rendered file and its Kubernetes runner places tasks as the values say', async () => {
    const { kubernetes } = runnersFileOf(await render(TWO_CLUSTERS));
    // The Secret's file as it would be mounted, here pointing at the test control plane.
    const kubeconfig = join(dir, 'east.kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: c, cluster: {server: "${cluster.apiserverUrl}", insecure-skip-tls-verify: true}}]`,
        'users: [{name: u, user: {token: unused}}]',
        'contexts: [{name: east, context: {cluster: c, user: u}}]',
        'current-context: east',
        '',
      ].join('\n'),
      { mode: 0o600 },
    );
    const file = join(dir, 'runners.yaml');
    writeFileSync(file, JSON.stringify({ kubernetes }).replaceAll(EAST_KUBECONFIG, kubeconfig));
    const config = runtimeConfigFromEnv(
      { MAESTRO_RUNNERS_CONFIG: file, MAESTRO_DATA_DIR: join(dir, 'data') },
      { cwd: dir, socketExists: () => false },
    );
    const section = config.runners.sections.kubernetes!;
    const factory = RUNNER_FACTORIES.kubernetes!;
    // The kubeconfig holds the cluster's credentials: hidden from every task the server runs.
    expect(factory.secretFiles?.(section)).toContain(kubeconfig);
    const context = { baseEnv: {}, hiddenPaths: [] } as unknown as RunnerFactoryContext;
    const runner = factory.create(section, context);
    try {
      const place = (namespace: string, resources: string) => runner.place!({ namespace, resources });
      expect(place('default', 'small')).toEqual({
        placement: { cluster: 'here', namespace: 'maestro-runs' },
      });
      expect(place('default', 'gpu')).toEqual({ placement: { cluster: 'east', namespace: 'maestro-runs' } });
      expect(place('payments', 'small')).toEqual({
        placement: { cluster: 'east', namespace: 'ci-payments' },
      });
      expect(place('web', 'gpu')).toMatchObject({ refused: { reason: 'ClusterConflict' } });
    } finally {
      await runner.close?.();
    }
  });

  it('with other clusters only: no Role, no service account token, still zero warnings', async () => {
    const objects = await render(REMOTE_ONLY);
    const { kubernetes } = runnersFileOf(objects);
    expect(kubernetes.clusters).toEqual({
      east: { kubeconfig: EAST_KUBECONFIG },
      west: { kubeconfig: '/etc/maestro/clusters/west/kubeconfig', context: 'west' },
    });
    expect(kubernetes.defaultCluster).toBe('west');
    expect(objects.map((o) => o.kind)).not.toContain('Role');
    const pod = deploymentOf(objects).spec.template.spec;
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.volumes.find((v) => v.name === 'kubeconfig-west')?.secret).toMatchObject({
      secretName: 'maestro-kubeconfig-west',
      items: [{ key: 'config', path: 'kubeconfig' }],
    });
    const result = await dryRunApply(cluster.admin, [...objects, podOf(objects)], NS);
    expect(result.refused).toEqual({});
    expect(result.warnings).toEqual([]);
  });

  it('refuses cluster values that cannot work, naming the value', async () => {
    expect(await renderError(REMOTE_ONLY, ['runners.kubernetes.defaultCluster=north'])).toMatch(
      /runners.kubernetes.defaultCluster is "north", which is not a key of runners.kubernetes.clusters \(east, west\)/,
    );
    expect(await renderError(REMOTE_ONLY.replace('    defaultCluster: west\n', ''), [])).toMatch(
      /runners.kubernetes.defaultCluster is not set and no cluster is the in-cluster one/,
    );
    expect(await renderError(TWO_CLUSTERS, ['runners.kubernetes.clusters.local.context=x'])).toMatch(
      /here, local have no kubeconfigSecret/,
    );
    // A path would name a file the pod does not have: the Secret is the only way in.
    expect(
      await renderError(TWO_CLUSTERS, ['runners.kubernetes.clusters.east.kubeconfig=/etc/kube']),
    ).toMatch(/runners\/kubernetes\/clusters\/east.*additional properties 'kubeconfig' not allowed/);
    expect(await renderError(TWO_CLUSTERS, ['runners.kubernetes.clusters.East_1.context=x'])).toMatch(
      /runners.kubernetes.clusters.East_1: a cluster name must be a DNS-1123 label/,
    );
    expect(await renderError(TWO_CLUSTERS, ['runners.kubernetes.namespaces.web.region=eu'])).toMatch(
      /runners\/kubernetes\/namespaces\/web/,
    );
  });
});
