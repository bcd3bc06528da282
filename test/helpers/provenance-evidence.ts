import { sha256Digest, type AttemptEvidence } from '../../core/index.ts';

/**
 * The evidence the engine hands the attestor for one succeeded attempt that left `artifact`
 * (provenance/test-fixtures.ts has the same for provenance's own tests; test/ may not import it).
 */
export function attemptEvidence(artifact: { path: string; data: Uint8Array }): AttemptEvidence {
  return {
    runId: 'run-1',
    taskId: 'build',
    attempt: 1,
    attemptId: 'att-build-1',
    planDigest: sha256Digest('plan'),
    workflow: { name: 'release', namespace: 'shop' },
    params: {},
    definitionDigest: sha256Digest('definition'),
    codeDigest: sha256Digest('code'),
    runner: 'local',
    inputDigests: {},
    outputs: {},
    artifacts: [{ path: artifact.path, digest: sha256Digest(artifact.data), size: artifact.data.length }],
    status: 'succeeded',
    exitCode: 0,
    startedAt: Date.UTC(2026, 0, 1),
    finishedAt: Date.UTC(2026, 0, 1, 0, 0, 5),
    cache: { hit: false, key: sha256Digest('cache-key') },
    policy: { decisionIds: ['dec-1'], bundleDigest: sha256Digest('policy') },
  };
}
