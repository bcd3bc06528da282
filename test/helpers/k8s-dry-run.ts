/**
 * Server-side dry runs against the test control plane's real API server, collecting the Warning
 * headers (RFC 7234: `299 - "text"`) Pod Security's `warn` mode answers with. Used by
 * test/helm-chart.test.ts (the chart) and test/hardening.test.ts (the runner's Job specs).
 */
import {
  createConfiguration,
  KubernetesObjectApi,
  PatchStrategy,
  ServerConfiguration,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';

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
