/**
 * Every shape of Job the Kubernetes runner generates, built by its own buildAttempt (never written
 * out by hand, so the check follows the runner): a plain task; one that receives artifacts (the
 * fetch init container) and keeps some (the upload sidecar); one that fetches its source (the
 * source init container) with a secret (moved into the per-attempt Secret). Each gets a stable
 * name, `Job/maestro-task-<shape>`, for the exceptions file.
 */
import type { V1Job } from '@kubernetes/client-node';
import type { RunnerStartRequest } from '../../core/index.ts';
import { buildAttempt, type KubernetesRunnerConfig } from '../../runners/kubernetes/index.ts';

export const JOB_CONFIG: KubernetesRunnerConfig = {
  namespaces: { 'team-a': 'maestro-runs' },
  defaultImage: 'registry.example/maestro/task@sha256:' + 'a'.repeat(64),
  source: { image: 'registry.example/maestro/git@sha256:' + 'e'.repeat(64) },
  artifactUpload: { image: 'registry.example/maestro/upload@sha256:' + 'd'.repeat(64) },
  resourceClasses: {
    small: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
  },
};

const base: RunnerStartRequest = {
  runId: 'run-1',
  taskId: 'build',
  attempt: 1,
  attemptId: 'run-1/build/1',
  command: { kind: 'shell', script: 'make test' },
  env: {},
  redact: [],
  workDir: '/w',
  artifactsDir: '/a',
  resources: 'small',
  namespace: 'team-a',
  timeoutMs: 600_000,
  outputs: [],
  trust: 'trusted',
};

const URL = 'https://objects.example/bucket/object?X-Amz-Signature=0';
const SHAPES: Record<string, Partial<RunnerStartRequest>> = {
  plain: {},
  artifacts: {
    received: [{ path: 'build/app.bin', digest: `sha256:${'b'.repeat(64)}`, executable: true, url: URL }],
    keep: { paths: ['dist'], url: URL, maxBytes: 1 << 20 },
  },
  source: {
    source: { kind: 'git', repo: 'https://github.com/acme/app.git', commit: 'c'.repeat(40) },
    env: { TOKEN: 'not-a-real-secret' },
    redact: ['not-a-real-secret'],
  },
};

export function runnerJobs(config: KubernetesRunnerConfig = JOB_CONFIG): V1Job[] {
  return Object.entries(SHAPES).map(([shape, overrides]) => {
    const { job } = buildAttempt(
      { ...base, ...overrides },
      'maestro-runs',
      config.resourceClasses.small!,
      config,
    );
    return { ...job, metadata: { ...job.metadata, name: `maestro-task-${shape}` } };
  });
}
