import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kubernetesSecretFiles, SERVICE_ACCOUNT_DIR } from './factory.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-k8s-secret-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the Kubernetes runner’s secret files (hidden from every task)', () => {
  it('names the kubeconfig of a one-cluster section; the in-cluster token without one', () => {
    expect(kubernetesSecretFiles({ kubeconfig: 'kube/config' })).toEqual([resolve('kube/config')]);
    expect(kubernetesSecretFiles({})).toEqual([SERVICE_ACCOUNT_DIR]);
  });

  it('names every cluster’s kubeconfig, and the token when a cluster uses the in-cluster configuration', () => {
    expect(
      kubernetesSecretFiles({
        clusters: { here: {}, east: { kubeconfig: '/etc/east.kubeconfig', context: 'east' } },
      }).sort(),
    ).toEqual(['/etc/east.kubeconfig', SERVICE_ACCOUNT_DIR].sort());
    // The section's file is every cluster's that names none: no in-cluster cluster then.
    expect(
      kubernetesSecretFiles({
        kubeconfig: '/etc/shared',
        clusters: { east: { context: 'east' }, west: { kubeconfig: '/etc/west' } },
      }).sort(),
    ).toEqual(['/etc/shared', '/etc/west']);
  });

  it('hides a Secret volume’s kubeconfig with its directory (the file is a link into ..data)', () => {
    // What the kubelet projects: <dir>/..2026_12_02/kubeconfig, ..data -> it, kubeconfig -> ..data/kubeconfig.
    const mount = join(dir, 'clusters', 'east');
    mkdirSync(join(mount, '..2026_12_02'), { recursive: true });
    writeFileSync(join(mount, '..2026_12_02', 'kubeconfig'), 'token: secret');
    symlinkSync('..2026_12_02', join(mount, '..data'));
    symlinkSync('..data/kubeconfig', join(mount, 'kubeconfig'));
    expect(kubernetesSecretFiles({ clusters: { east: { kubeconfig: join(mount, 'kubeconfig') } } })).toEqual([
      mount,
    ]);
  });
});
