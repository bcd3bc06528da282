/**
 * `helm template` of the chart in deploy/helm/maestro with the Helm scripts/setup/helm.sh builds
 * (MAESTRO_HELM, else ~/.cache/maestro/bin/helm or $GOBIN/helm, else PATH). Used by
 * test/helm-chart.test.ts (the API server's view) and test/container-image.test.ts (the image
 * run as the chart's Deployment runs it).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import type { KubernetesObject } from '@kubernetes/client-node';

const run = promisify(execFile);
export const CHART = join(import.meta.dirname, '..', '..', 'deploy', 'helm', 'maestro');

export function helmBinary(): string {
  const candidates = [
    process.env.MAESTRO_HELM,
    join(process.env.GOBIN ?? join(homedir(), '.cache/maestro/bin'), 'helm'),
    ...(process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'helm')),
  ];
  const found = candidates.find((c): c is string => Boolean(c) && existsSync(c!));
  if (!found) throw new Error('helm is missing: run `bash scripts/setup/helm.sh`');
  return found;
}

/**
 * The rendered objects; `set` are `--set` arguments, `values` files given with `--values` (before
 * them, as helm applies them). Rejects with helm's stderr on a refusal.
 */
export async function renderChart(
  release: string,
  namespace: string,
  set: string[] = [],
  chart = CHART,
  values: string[] = [],
): Promise<KubernetesObject[]> {
  const args = [
    'template',
    release,
    chart,
    '--namespace',
    namespace,
    ...values.flatMap((v) => ['--values', v]),
    ...set.flatMap((s) => ['--set', s]),
  ];
  const { stdout } = await run(helmBinary(), args, { maxBuffer: 16 * 1024 * 1024 });
  return (loadAll(stdout) as (KubernetesObject | null)[]).filter((d): d is KubernetesObject => d !== null);
}

/** `helm lint --strict` of the chart (warnings fail too); resolves to helm's output. */
export async function lintChart(set: string[] = []): Promise<string> {
  const args = ['lint', '--strict', CHART, ...set.flatMap((s) => ['--set', s])];
  const { stdout } = await run(helmBinary(), args);
  return stdout;
}

/** The Deployment's pod template as a Pod, the object Pod Security's enforce mode checks. */
export function podOf(objects: KubernetesObject[]): KubernetesObject {
  const deployment = objects.find((o) => o.kind === 'Deployment') as KubernetesObject & {
    spec: { template: { metadata: object; spec: object } };
  };
  const { metadata, spec } = deployment.spec.template;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...metadata, name: 'template-probe' },
    spec,
  } as KubernetesObject;
}
