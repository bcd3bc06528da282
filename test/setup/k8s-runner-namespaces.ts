/**
 * Namespaces for the Kubernetes runner's tests on the test control plane: each enforces the
 * restricted Pod Security profile, and the runner's user gets a Role to manage Jobs, their
 * per-attempt Secrets (create/delete, never read) and to read pods and their logs there.
 */
import { CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { RUNNER_USER, type TestCluster } from './k8s-cluster.ts';

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Creates every namespace (restricted); only those in `granted` get the runner's Role. */
export async function prepareRunnerNamespaces(
  cluster: TestCluster,
  namespaces: string[],
  granted: string[] = namespaces,
): Promise<void> {
  const core = cluster.admin.makeApiClient(CoreV1Api);
  const rbac = cluster.admin.makeApiClient(RbacAuthorizationV1Api);
  for (const name of namespaces)
    await core.createNamespace({
      body: {
        metadata: {
          name,
          labels: {
            'pod-security.kubernetes.io/enforce': 'restricted',
            'pod-security.kubernetes.io/enforce-version': 'latest',
          },
        },
      },
    });
  for (const namespace of granted) {
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: 'maestro-runner' },
        rules: [
          {
            apiGroups: ['batch'],
            resources: ['jobs'],
            verbs: ['create', 'get', 'list', 'watch', 'delete', 'patch'],
          },
          // The per-attempt Secrets (created, then deleted when the attempt ends); never read.
          { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'delete'] },
          { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: 'maestro-runner' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'maestro-runner' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: RUNNER_USER }],
      },
    });
    // The ServiceAccount admission plugin needs the namespace's default service account.
    await waitFor('default service account', async () =>
      Boolean(await core.readNamespacedServiceAccount({ name: 'default', namespace })),
    );
  }
}
