/**
 * What the engine hands a runner whose tasks fetch their inputs themselves (a Kubernetes pod):
 * `request.received`, one presigned URL per received object, which reads the producer's bytes
 * from the bucket (gofakes3) without credentials; and that a runner that mounts the staged folder
 * (container) gets no URL at all (a URL is a capability). The tasks run as real local processes
 * under runners of those kinds, so only what the engine passes is under test here; the pod side
 * is test/runners-kubernetes.test.ts and test/kubernetes-artifacts-init.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { RunnerRegistry, policyOff, type Runner, type RunnerStartRequest } from '../core/index.ts';
import { asyncSqliteStore, createEngine, openStore, s3ArtifactStore } from '../engine/index.ts';
import { planOf, recordingLocalRunner, shellTask, tempDir } from './helpers/engine-fixtures.ts';
import { startS3Server, type S3Server } from './setup/s3-server.ts';

let s3: S3Server;
const closers: { close(): Promise<void> }[] = [];
beforeAll(async () => {
  s3 = await startS3Server();
});
afterAll(async () => {
  await Promise.all(closers.map((c) => c.close()));
  await s3?.stop();
});

/** The real local runner under another kind's name, recording the requests it was given. */
function runnerOfKind(kind: string, fetchesReceived: boolean): Runner & { requests: RunnerStartRequest[] } {
  const inner = recordingLocalRunner();
  closers.push(inner);
  const requests: RunnerStartRequest[] = [];
  return {
    kind,
    ...(fetchesReceived ? { fetchesReceived } : {}),
    requests,
    posture: (task) => inner.posture(task),
    start: (request) => {
      requests.push(request);
      return inner.start(request);
    },
  };
}

describe('received artifacts for runners whose tasks fetch them', () => {
  it('gives the kubernetes runner a presigned URL per object, and the container runner none', async () => {
    const dataDir = tempDir();
    const store = openStore({ dataDir });
    const pod = runnerOfKind('kubernetes', true);
    const boxed = runnerOfKind('container', false);
    const bucket = s3ArtifactStore(s3.storeOptions('urls/'));
    const engine = createEngine({
      policy: policyOff('artifact URL test'),
      store: asyncSqliteStore(store),
      dataDir,
      runners: new RunnerRegistry().register(pod).register(boxed),
      artifacts: { store: bucket, runners: ['container', 'kubernetes'] },
      leaseMs: 60_000,
    });
    const runId = await engine.submit(
      planOf([
        shellTask('build', 'echo built > out.txt', { artifacts: ['out.txt'], runner: 'container' }),
        shellTask('deploy', 'cat "$MAESTRO_ARTIFACTS/build/out.txt"', {
          needs: ['build'],
          runner: 'kubernetes',
        }),
        shellTask('check', 'cat "$MAESTRO_ARTIFACTS/build/out.txt"', {
          needs: ['build'],
          runner: 'container',
        }),
      ]),
    );
    expect((await engine.execute(runId)).status).toBe('succeeded');
    const digest = `sha256:${createHash('sha256').update('built\n').digest('hex')}`;
    const [received] = pod.requests[0]!.received!;
    expect(pod.requests[0]!.received).toHaveLength(1);
    expect(received).toMatchObject({ path: 'build/out.txt', digest, executable: false });
    expect(received!.url).not.toContain(s3.credentials.secretAccessKey);
    expect(await (await fetch(received!.url)).text()).toBe('built\n');
    expect(boxed.requests.map((r) => r.received)).toEqual([undefined, undefined]);
    // The URLs are not stored with the attempt's recorded inputs either.
    expect(JSON.stringify(store.listAttempts(runId))).not.toContain('X-Amz-Signature');
    bucket.close();
    store.close();
  });

  it('puts a cache hit’s artifacts in the bucket again: it may have been emptied since', async () => {
    const dataDir = tempDir();
    const store = openStore({ dataDir });
    const boxed = runnerOfKind('container', false);
    const bucket = s3ArtifactStore(s3.storeOptions('cache/'));
    const engine = createEngine({
      policy: policyOff('artifact cache test'),
      store: asyncSqliteStore(store),
      dataDir,
      runners: new RunnerRegistry().register(boxed),
      artifacts: { store: bucket, runners: ['container'] },
      leaseMs: 60_000,
    });
    const plan = () =>
      planOf([
        shellTask('build', 'echo cached > out.txt', {
          artifacts: ['out.txt'],
          runner: 'container',
          cache: { enabled: true },
        }),
        shellTask('use', 'cat "$MAESTRO_ARTIFACTS/build/out.txt"', { needs: ['build'], runner: 'container' }),
      ]);
    const key = `cache/sha256/${createHash('sha256').update('cached\n').digest('hex')}`;
    expect((await engine.execute(await engine.submit(plan()))).status).toBe('succeeded');
    await s3.client().send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: key }));
    const second = await engine.submit(plan());
    expect((await engine.execute(second)).status).toBe('succeeded');
    expect(store.getTask(second, 'build').state).toBe('cached');
    await s3.client().send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key })); // there again
    bucket.close();
    store.close();
  });
});
