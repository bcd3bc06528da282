/**
 * Server-side dry runs against the test control plane's real API server, collecting the Warning
 * headers (RFC 7234: `299 - "text"`) Pod Security's `warn` mode answers with. Used by
 * test/helm-chart.test.ts and test/helm-clusters.test.ts (the chart) and test/hardening.test.ts
 * (the runner's Job specs).
 */
import {
  createConfiguration,
  type CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { waitFor } from './wait-for.ts';

/** An object API whose every response's Warning headers land in `sink`. */
export function warningClient(kc: KubeConfig, sink: string[]): KubernetesObjectApi {
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(kc.getCurrentCluster()!.server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [
      {
        pre: async (context) => context,
        post: async (response) => {
          const header = response.headers.warning;
          if (header)
            for (const m of header.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g))
              sink.push(m[1]!.replace(/\\(.)/g, '$1'));
          return response;
        },
      },
    ],
  });
  return new KubernetesObjectApi(configuration);
}

/** The API server's Status message of a refusal, else the error itself. */
export function statusMessage(error: unknown): string {
  const body = (error as { body?: unknown }).body;
  try {
    return (JSON.parse(String(body)) as { message: string }).message;
  } catch {
    return String(body ?? error);
  }
}

export interface DryRun {
  warnings: string[];
  /** kind/name → the API server's refusal, for objects it did not accept. */
  refused: Record<string, string>;
  accepted: string[];
}

/**
 * Server-side apply of every object with dryRun=All (`kubectl apply --server-side
 * --dry-run=server`): validation and admission run, nothing is persisted. Objects without a
 * namespace go to `defaultNamespace`; `namespace` moves every object there.
 */
export async function dryRunApply(
  admin: KubeConfig,
  objects: KubernetesObject[],
  defaultNamespace: string,
  namespace?: string,
): Promise<DryRun> {
  const result: DryRun = { warnings: [], refused: {}, accepted: [] };
  const api = warningClient(admin, result.warnings);
  for (const object of objects) {
    const id = `${object.kind}/${object.metadata!.name}`;
    const body = {
      ...object,
      metadata: { namespace: defaultNamespace, ...object.metadata, ...(namespace ? { namespace } : {}) },
    };
    try {
      await api.patch(body, undefined, 'All', 'maestro-dry-run', true, PatchStrategy.ServerSideApply);
      result.accepted.push(id);
    } catch (error) {
      result.refused[id] = statusMessage(error);
    }
  }
  return result;
}

/** Pod Security labels of a namespace that enforces and warns about the restricted profile. */
export const RESTRICTED = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
};

/** Creates a namespace and waits for its default ServiceAccount (admission of Pods needs it). */
export async function createNamespace(
  core: CoreV1Api,
  name: string,
  labels: Record<string, string>,
): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels } } });
  await waitFor(`the default service account in ${name}`, async () =>
    (await core.readNamespacedServiceAccount({ name: 'default', namespace: name })) ? true : undefined,
  );
}
