/**
 * The hardening check (docs/hardening.md): Maestro's Helm chart, its image and every shape of Job
 * the Kubernetes runner generates, scored by kube-score (scripts/setup/kube-score.sh, offline)
 * and the image rules, against the tracked exceptions in ops/hardening/exceptions.yaml, with
 * today's date: a new high-severity finding or an expired exception fails `npm test`. Then the
 * Job specs on the real API server of the test control plane, in a namespace labelled
 * enforce=restricted and warn=restricted: accepted, with no Pod Security warning.
 * The check is shown to bite: on a deliberately weakened copy of the chart, on an expired
 * exception, and (Pod Security) on a weakened Job.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { judge, type Finding } from '../scripts/hardening/findings.ts';
import { checkContainerfile } from '../scripts/hardening/image-rules.ts';
import { runnerJobs } from '../scripts/hardening/job-specs.ts';
import { kubeScore } from '../scripts/hardening/kube-score.ts';
import { dryRunApply } from './helpers/k8s-dry-run.ts';
import { CHART, renderChart } from './helpers/helm-template.ts';
import { startTestCluster, type TestCluster } from './setup/k8s-cluster.ts';

const root = join(import.meta.dirname, '..');
const RUNS_NS = 'maestro-runs';
const today = new Date().toISOString().slice(0, 10);
const exceptionsDoc = () => load(readFileSync(join(root, 'ops', 'hardening', 'exceptions.yaml'), 'utf8'));

/** The egress policy operators apply in the runner's namespaces (deploy/kubernetes), where it is applied. */
function egressPolicy(): KubernetesObject {
  const policy = load(
    readFileSync(join(root, 'deploy', 'kubernetes', 'task-egress-deny.yaml'), 'utf8'),
  ) as KubernetesObject;
  return { ...policy, metadata: { ...policy.metadata, namespace: RUNS_NS } };
}

async function findingsOf(chart = CHART): Promise<Finding[]> {
  const objects = await renderChart('maestro', 'maestro', [], chart);
  return [
    ...(await kubeScore([...objects, ...runnerJobs(), egressPolicy()])),
    ...checkContainerfile(readFileSync(join(root, 'Containerfile'), 'utf8')),
  ];
}

describe('hardening: kube-score and the image rules, against the tracked exceptions', () => {
  let current: Finding[];
  beforeAll(async () => {
    current = await findingsOf();
  }, 120_000);

  it('the chart, the image and every Job shape the runner generates: no high finding without a live exception', () => {
    const verdict = judge(current, exceptionsDoc(), today);
    expect(verdict.failures).toEqual([]);
    // What is checked is really there: the Deployment, the three Job shapes and the image.
    const resources = new Set(current.map((f) => f.resource));
    for (const r of [
      'Deployment/maestro',
      'Job/maestro-task-plain',
      'Job/maestro-task-artifacts',
      'Image/maestro',
    ])
      expect(resources).toContain(r);
  });

  it('the findings once excepted until 2027-01-31 are fixed, not excused: no exception names them', async () => {
    const fixed = (f: Finding) =>
      (f.check === 'pod-networkpolicy' && f.resource === 'Deployment/maestro') ||
      (['container-resources', 'container-ephemeral-storage-request-and-limit'].includes(f.check) &&
        f.resource.startsWith('Job/'));
    expect(current.filter((f) => f.severity === 'high' && fixed(f))).toEqual([]);
    const { exceptions } = exceptionsDoc() as { exceptions: { check: string; resource: string }[] };
    expect(exceptions.filter((e) => fixed({ ...e, severity: 'high', message: '' }))).toEqual([]);
    // The chart's NetworkPolicy is what clears pod-networkpolicy: without it the finding is back.
    const bare = await kubeScore(await renderChart('maestro', 'maestro', ['networkPolicy.enabled=false']));
    expect(bare.some((f) => f.check === 'pod-networkpolicy' && f.resource === 'Deployment/maestro')).toBe(
      true,
    );
  }, 120_000);

  it('fails on a deliberately weakened chart: a privileged, writable-root container is a new high finding', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'maestro-weak-chart-'));
    try {
      const weak = join(dir, 'maestro');
      cpSync(CHART, weak, { recursive: true });
      const helpers = join(weak, 'templates', '_helpers.tpl');
      const text = readFileSync(helpers, 'utf8');
      const hardened = /\{\{- \$base := dict "allowPrivilegeEscalation" false[^\n]*\}\}/;
      expect(text).toMatch(hardened);
      writeFileSync(
        helpers,
        text.replace(hardened, '{{- $base := dict "privileged" true "readOnlyRootFilesystem" false -}}'),
      );
      const verdict = judge(await findingsOf(weak), exceptionsDoc(), today);
      expect(verdict.failures.join('\n')).toMatch(
        /high container-security-context-privileged on Deployment\/maestro/,
      );
      expect(verdict.failures.join('\n')).toMatch(
        /high container-security-context-readonlyrootfilesystem on Deployment\/maestro/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('fails on an expired exception, and on one missing its owner', () => {
    const doc = exceptionsDoc() as { exceptions: Array<Record<string, string>> };
    const [first, second, ...rest] = doc.exceptions;
    const expired = { ...first!, expires: '2026-01-31' };
    const { owner: _owner, ...ownerless } = second!;
    const verdict = judge(current, { exceptions: [expired, ownerless, ...rest] }, today);
    expect(verdict.failures).toContain(
      `exception for ${first!.check} on ${first!.resource} expired on 2026-01-31 (owner ${first!.owner}): fix the finding, or renew it with a reason`,
    );
    expect(verdict.failures).toContain('exceptions.yaml entry 2: missing owner');
    // And the findings those two excused are failures again.
    expect(verdict.failures.some((f) => f.startsWith(`high ${first!.check} on ${first!.resource}`))).toBe(
      true,
    );
  });
});

describe('hardening: Pod Security restricted on the real API server', () => {
  let cluster: TestCluster;
  beforeAll(async () => {
    cluster = await startTestCluster();
    const labels = Object.fromEntries(
      ['enforce', 'warn', 'audit'].flatMap((mode) => [
        [`pod-security.kubernetes.io/${mode}`, 'restricted'],
        [`pod-security.kubernetes.io/${mode}-version`, 'latest'],
      ]),
    );
    await cluster.admin
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: RUNS_NS, labels } } });
  }, 600_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('every Job shape the runner generates is accepted with zero warnings', async () => {
    const result = await dryRunApply(cluster.admin, runnerJobs() as KubernetesObject[], RUNS_NS);
    expect(result.refused).toEqual({});
    expect(result.warnings).toEqual([]);
    expect(result.accepted).toEqual([
      'Job/maestro-task-plain',
      'Job/maestro-task-artifacts',
      'Job/maestro-task-source',
    ]);
  });

  it('a weakened Job (privileged, root allowed) draws Pod Security warnings: the check sees them', async () => {
    const [job] = runnerJobs();
    job!.spec!.template.spec!.containers[0]!.securityContext = { privileged: true, runAsNonRoot: false };
    const result = await dryRunApply(cluster.admin, [job as KubernetesObject], RUNS_NS);
    expect(result.warnings.join('\n')).toMatch(/would violate PodSecurity "restricted:latest": privileged/);
  });
});
