/**
 * The Kubernetes runner's artifacts init container, executed. kwok runs no container, so the
 * control plane can only admit the Job; here the init container the Job spec holds (its image,
 * command and env, with the URLs its Secret would hold) runs on real Podman, against a real
 * S3-compatible server (gofakes3), with URLs the S3 artifact store presigned: the task's inputs
 * arrive with their modes and a read-only folder, and a replaced object is refused and removed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { ReceivedArtifact } from '../core/index.ts';
import { s3ArtifactStore, type ArtifactStore } from '../engine/index.ts';
import { buildAttempt } from '../runners/kubernetes/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { ensurePodmanService, TEST_IMAGE, type PodmanService } from './setup/podman-service.ts';
import { startS3Server, type S3Server } from './setup/s3-server.ts';

let podman: PodmanService;
let s3: S3Server;
let store: ArtifactStore;
beforeAll(async () => {
  podman = await ensurePodmanService();
  s3 = await startS3Server();
  store = s3ArtifactStore(s3.storeOptions('k8s/'));
}, 60_000);
afterAll(async () => {
  store?.close();
  await s3?.stop();
  await podman?.stop();
});

async function keep(path: string, bytes: Buffer, executable: boolean): Promise<ReceivedArtifact> {
  const dir = tempDir('maestro-k8s-init-src-');
  const file = join(dir, 'f');
  writeFileSync(file, bytes);
  const object = { digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.length };
  await store.put(object, file);
  return { path, digest: object.digest, executable, url: await store.presignGet!(object, 600) };
}

/** Runs the Job's `artifacts` init container as the kubelet would: its env, the Secret's values. */
function runInit(received: ReceivedArtifact[], hostDir: string) {
  const built = buildAttempt(
    {
      runId: 'r',
      taskId: 'test',
      attempt: 1,
      attemptId: 'a-1',
      command: { kind: 'shell', script: 'true' },
      env: {},
      redact: [],
      workDir: '/w',
      artifactsDir: '/a',
      resources: 'small',
      namespace: 'demo',
      outputs: [],
      received,
    },
    'ns',
    {},
    { defaultImage: TEST_IMAGE, namespaces: {}, resourceClasses: {} },
  );
  const init = built.job.spec!.template.spec!.initContainers!.find((c) => c.name === 'artifacts')!;
  const env = init.env!.flatMap((e) => {
    // The kubelet reads valueFrom from the Secret and turns a plain value's `$$` back into `$`.
    const value = e.valueFrom
      ? built.secretData[e.valueFrom.secretKeyRef!.key]
      : e.value!.replaceAll('$$', '$');
    return ['-e', `${e.name}=${value}`];
  });
  // The pod reaches the bucket over the network; here the host's loopback, where gofakes3 listens.
  return spawnSync(
    'podman',
    [
      'run',
      '--rm',
      '--network',
      'host',
      '--user',
      '1000:1000',
      '--read-only',
      '-v',
      `${hostDir}:${init.volumeMounts![0]!.mountPath}`,
      ...env,
      init.image!,
      ...init.command!,
    ],
    { encoding: 'utf8' },
  );
}

describe('the Kubernetes artifacts init container (run on Podman: kwok executes no container)', () => {
  it('fetches each received artifact by its presigned URL, checks it, and seals the folder', async () => {
    const received = [
      await keep('build/dist/hello', Buffer.from('#!/bin/sh\necho hello\n'), true),
      await keep('build/notes $(id).txt', Buffer.from('plain notes\n'), false),
    ];
    const dir = tempDir('maestro-k8s-init-');
    chmodSync(dir, 0o777); // the emptyDir the pod's fsGroup may write
    const result = runInit(received, dir);
    expect(result.status, result.stderr).toBe(0);
    expect(readFileSync(join(dir, 'build/dist/hello'), 'utf8')).toBe('#!/bin/sh\necho hello\n');
    expect(statSync(join(dir, 'build/dist/hello')).mode & 0o777).toBe(0o555);
    expect(readFileSync(join(dir, 'build/notes $(id).txt'), 'utf8')).toBe('plain notes\n');
    expect(statSync(join(dir, 'build/notes $(id).txt')).mode & 0o777).toBe(0o444);
    expect(statSync(join(dir, 'build')).mode & 0o222).toBe(0);
  }, 120_000);

  it('refuses an object replaced in the bucket, and leaves no file behind', async () => {
    const artifact = await keep('build/dist/hello', Buffer.from('#!/bin/sh\necho the real one\n'), true);
    await s3.client().send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `k8s/sha256/${artifact.digest.slice(7)}`,
        Body: '#!/bin/sh\necho pwned\n',
      }),
    );
    const dir = tempDir('maestro-k8s-init-');
    chmodSync(dir, 0o777);
    const result = runInit([artifact], dir);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(`artifact build/dist/hello does not match ${artifact.digest}: refused`);
    expect(existsSync(join(dir, 'build/dist/hello'))).toBe(false);
  }, 120_000);
});
