/**
 * The `clusters` part of the Kubernetes runner's section, as the factory reads it from the
 * operator's runners file: every wrong shape or unknown cluster name is `runner_config_invalid`
 * naming the field; a section without `clusters` keeps working as it always did (one cluster).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMaestroError } from '../../core/index.ts';
import { kubernetesRunnerFactory } from './factory.ts';
import { placeTask } from './placement.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-k8s-clusters-'));
/** A kubeconfig with contexts `east` and `west` (servers that are never called at build time). */
const shared = join(dir, 'shared.kubeconfig');
writeFileSync(
  shared,
  `apiVersion: v1
kind: Config
clusters:
- { name: east, cluster: { server: 'https://127.0.0.1:1' } }
- { name: west, cluster: { server: 'https://127.0.0.1:2' } }
users: [{ name: runner, user: { token: t } }]
contexts:
- { name: east, context: { cluster: east, user: runner } }
- { name: west, context: { cluster: west, user: runner } }
current-context: east
`,
);

const context = { baseEnv: {}, hiddenPaths: [], localSandbox: 'bwrap' as const };
function section(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    kubeconfig: shared,
    defaultImage: 'busybox',
    namespaces: { web: 'ci-web' },
    resourceClasses: { small: {} },
    ...extra,
  };
}
function refusal(extra: Record<string, unknown>): string {
  try {
    void kubernetesRunnerFactory.create(section(extra), context).close?.();
  } catch (error) {
    expect(isMaestroError(error) && error.code).toBe('runner_config_invalid');
    return (error as Error).message;
  }
  throw new Error('the section was accepted');
}

const twoClusters = {
  clusters: { east: { context: 'east' }, west: { context: 'west' } },
  defaultCluster: 'east',
};

describe('kubernetes runner clusters config', () => {
  it('accepts a section without clusters, as before: one cluster named default', () => {
    const runner = kubernetesRunnerFactory.create(section({ context: 'west' }), context);
    expect(runner.place?.({ namespace: 'web', resources: 'small' })).toEqual({
      placement: { cluster: 'default', namespace: 'ci-web' },
    });
    void runner.close?.();
  });

  it('accepts clusters by context, a pinned namespace and a class with a cluster', () => {
    const runner = kubernetesRunnerFactory.create(
      section({
        ...twoClusters,
        namespaces: { web: 'ci-web', ml: { namespace: 'ci-ml', cluster: 'west' } },
        resourceClasses: { small: {}, gpu: { cluster: 'west' } },
      }),
      context,
    );
    expect(runner.place?.({ namespace: 'web', resources: 'small' })).toEqual({
      placement: { cluster: 'east', namespace: 'ci-web' },
    });
    expect(runner.place?.({ namespace: 'ml', resources: 'small' })).toEqual({
      placement: { cluster: 'west', namespace: 'ci-ml' },
    });
    expect(runner.posture({ namespace: 'web', resources: 'gpu' })).toEqual({
      privileged: false,
      hostNetwork: false,
      cluster: 'west',
    });
    void runner.close?.();
  });

  it('refuses an unknown cluster name, naming the field that names it', () => {
    expect(
      refusal({ ...twoClusters, namespaces: { web: { namespace: 'ci-web', cluster: 'north' } } }),
    ).toMatch(/namespaces\.web\.cluster names the cluster "north", which is not configured/);
    expect(refusal({ ...twoClusters, resourceClasses: { gpu: { cluster: 'north' } } })).toMatch(
      /resourceClasses\.gpu\.cluster names the cluster "north"/,
    );
    expect(refusal({ ...twoClusters, defaultCluster: 'north' })).toMatch(
      /defaultCluster names the cluster "north"/,
    );
    // Without `clusters` there is no cluster to name but `default`'s implicit one.
    expect(refusal({ resourceClasses: { gpu: { cluster: 'west' } } })).toMatch(
      /resourceClasses\.gpu\.cluster names the cluster "west", which is not configured/,
    );
  });

  it('refuses ambiguous or malformed cluster settings', () => {
    expect(refusal({ clusters: twoClusters.clusters })).toMatch(/`defaultCluster` is required/);
    expect(refusal({ ...twoClusters, context: 'east' })).toMatch(/`context` cannot be set beside `clusters`/);
    expect(refusal({ defaultCluster: 'east' })).toMatch(/`defaultCluster` needs a `clusters` mapping/);
    expect(refusal({ clusters: {} })).toMatch(/`clusters` must be a mapping of cluster names/);
    expect(refusal({ clusters: { East: {} } })).toMatch(
      /clusters\.East: a cluster name must be a DNS-1123 label/,
    );
    expect(refusal({ clusters: { east: { context: 'east', server: 'x' } } })).toMatch(
      /clusters\.east\.server is not a cluster setting/,
    );
    expect(refusal({ ...twoClusters, namespaces: { web: { namespace: 'ci-web' } } })).toMatch(
      /namespaces\.web\.cluster is required/,
    );
    expect(
      refusal({ ...twoClusters, namespaces: { web: { namespace: 'Bad_NS', cluster: 'east' } } }),
    ).toMatch(/namespaces\.web → "Bad_NS" is not a valid Kubernetes namespace/);
  });

  it('refuses a context the kubeconfig does not have, when the runner is built', () => {
    expect(refusal({ clusters: { east: { context: 'nowhere' } } })).toMatch(
      /context "nowhere" is not in .*shared\.kubeconfig/,
    );
  });
});

describe('placeTask precedence', () => {
  const settings = {
    ...twoClusters,
    namespaces: { web: 'ci-web', payments: { namespace: 'ci-payments', cluster: 'east' } },
    resourceClasses: { small: {}, gpu: { cluster: 'west' }, big: { cluster: 'east' } },
  };

  it('an unpinned namespace follows its class, else the default cluster', () => {
    expect(placeTask(settings, { namespace: 'web', resources: 'gpu' })).toEqual({
      placement: { cluster: 'west', namespace: 'ci-web' },
    });
    expect(placeTask(settings, { namespace: 'web', resources: 'small' })).toEqual({
      placement: { cluster: 'east', namespace: 'ci-web' },
    });
  });

  it('a namespace pinned to one cluster cannot reach another by choosing a resource class (fails closed)', () => {
    expect(placeTask(settings, { namespace: 'payments', resources: 'gpu' })).toEqual({
      refused: {
        reason: 'ClusterConflict',
        message:
          'manifest namespace "payments" runs only on cluster east, but resource class "gpu" runs only on cluster west',
      },
    });
    expect(placeTask(settings, { namespace: 'payments', resources: 'big' })).toEqual({
      placement: { cluster: 'east', namespace: 'ci-payments' },
    });
  });

  it('an unmapped namespace or class, and inherited keys, are refused', () => {
    expect(placeTask(settings, { namespace: 'toString', resources: 'small' })).toMatchObject({
      refused: { reason: 'NamespaceNotMapped' },
    });
    expect(placeTask(settings, { namespace: 'web', resources: 'constructor' })).toMatchObject({
      refused: { reason: 'UnknownResourceClass' },
    });
  });
});
