/**
 * End to end on the container runner (real Podman) with MAESTRO_ARTIFACT_STORE on a real
 * S3-compatible server (gofakes3, its own process): a repository's workflow builds a program in
 * one container task, and a second container task receives it through the bucket and runs it.
 * The object is in the bucket under its digest, the build's receipt names that digest as its
 * subject, and the AWS secret key appears in no log line, receipt, recorded input or task env.
 * The attack: the object in the bucket is replaced; the next run's test task is refused before
 * it starts, and never runs the replaced program. Local tasks keep their artifacts in the data dir.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { runCaptured } from './cli-helpers.ts';
import { openStore } from '../engine/index.ts';
import { git } from './github-standin/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { ensurePodmanService, TEST_IMAGE, type PodmanService } from './setup/podman-service.ts';
import { startS3Server, type S3Server } from './setup/s3-server.ts';

const workflow = (runner: string) => `apiVersion: maestro/v1
kind: Workflow
metadata: { name: ci, namespace: demo }
spec:
  defaults: { runner: ${runner}, retry: { limit: 0 }, timeout: 2m }
  tasks:
    - id: build
      run: mkdir -p dist && { echo '#!/bin/sh'; echo "echo hello \\$(cat VERSION)"; } > dist/hello && chmod +x dist/hello && env | sort
      artifacts: [dist/hello]
    - id: test
      needs: [build]
      run: test "$("$MAESTRO_ARTIFACTS/build/dist/hello")" = "hello $(cat VERSION)" && echo "tested $("$MAESTRO_ARTIFACTS/build/dist/hello")" && env | sort
`;

let podman: PodmanService;
let s3: S3Server;
beforeAll(async () => {
  podman = await ensurePodmanService();
  s3 = await startS3Server();
}, 60_000);
afterAll(async () => {
  await s3?.stop();
  await podman?.stop();
});

function repository(runner: string): string {
  const dir = tempDir('maestro-s3-e2e-repo-');
  git(dir, ['init', '-q', '--initial-branch', 'main']);
  mkdirSync(join(dir, '.maestro', 'workflows'), { recursive: true });
  writeFileSync(join(dir, '.maestro', 'workflows', 'ci.yaml'), workflow(runner));
  writeFileSync(join(dir, 'VERSION'), '1.2.3\n');
  git(dir, ['add', '-A']);
  git(dir, [
    '-c',
    'user.name=t',
    '-c',
    'user.email=t@example.com',
    'commit',
    '-qm',
    'a program and its workflow',
  ]);
  return dir;
}

function envFor(dir: string, prefix: string): Record<string, string | undefined> {
  const runners = join(tempDir('maestro-s3-e2e-conf-'), 'runners.yaml');
  writeFileSync(
    runners,
    `container:\n  socketPath: ${podman.socketPath}\n  defaultImage: ${TEST_IMAGE}\n  stopGraceMs: 2000\n  resourceClasses:\n    small: { memoryBytes: 268435456, pids: 256 }\n`,
  );
  return {
    PATH: process.env.PATH,
    HOME: dir,
    MAESTRO_RUNNERS_CONFIG: runners,
    MAESTRO_ARTIFACT_STORE: `s3://${s3.bucket}/${prefix}`,
    MAESTRO_ARTIFACT_STORE_ENDPOINT: s3.endpoint,
    AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
  };
}

async function run(dir: string, dataDir: string, env: Record<string, string | undefined>) {
  const result = await runCaptured(['run', '.maestro/workflows/ci.yaml', '--data-dir', dataDir], dir, env);
  return { ...result, runId: /run (r-\S+) /.exec(result.stdout)?.[1] ?? '' };
}

/** Everything the run stored that a person or a verifier can read: logs, receipts, inputs. */
function evidence(dataDir: string, runId: string) {
  const store = openStore({ dataDir });
  try {
    const logs: Record<string, string[]> = {};
    for (const task of ['build', 'test']) logs[task] = store.listLogs(runId, task).map((l) => l.text);
    return {
      logs: (task: string) => logs[task] ?? [],
      attempts: store.listAttempts(runId),
      receipts: store.listReceipts(runId),
      tasks: Object.fromEntries(store.listTasks(runId).map((t) => [t.taskId, t.state])),
    };
  } finally {
    store.close();
  }
}

function subjectOf(receipt: { bundle: unknown }): { name: string; digest: { sha256: string } }[] {
  const bundle = receipt.bundle as { dsseEnvelope: { payload: string } };
  return JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')).subject;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const listed = await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((o) => o.Key!);
}

describe('artifacts through an S3 bucket on the container runner', () => {
  it('hands the build to the test task through the bucket, by digest, and attests it', async () => {
    const dir = repository('container');
    const dataDir = tempDir('maestro-s3-e2e-data-');
    const env = envFor(dir, 'e2e/');
    const first = await run(dir, dataDir, env);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const seen = evidence(dataDir, first.runId);
    expect(seen.logs('test')).toContain('tested hello 1.2.3');
    expect(
      seen.logs('build').some((l) => l.startsWith(`1 artifact file(s) stored in s3://${s3.bucket}/e2e/`)),
    ).toBe(true);

    const build = seen.attempts.find((a) => a.taskId === 'build')!;
    const bytes = readFileSync(join(build.artifactsDir, 'dist', 'hello'));
    const hex = createHash('sha256').update(bytes).digest('hex');
    // The object is in the bucket under its digest, with the producer's bytes.
    expect(await keysUnder('e2e/')).toEqual([`e2e/sha256/${hex}`]);
    const object = await s3
      .client()
      .send(new GetObjectCommand({ Bucket: s3.bucket, Key: `e2e/sha256/${hex}` }));
    expect(Buffer.from(await object.Body!.transformToByteArray())).toEqual(bytes);
    // The build's receipt names that digest; the test's receipt was signed too.
    const receipt = seen.receipts.find((r) => r.taskId === 'build')!;
    expect(subjectOf(receipt)).toEqual([{ name: 'artifacts/dist/hello', digest: { sha256: hex } }]);
    expect(seen.receipts.map((r) => r.taskId)).toEqual(expect.arrayContaining(['build', 'test']));

    // Credentials reach no task env, log line, receipt, recorded input, or the CLI's output.
    const everything = JSON.stringify({
      seen,
      out: first.stdout,
      err: first.stderr,
      logs: [seen.logs('build'), seen.logs('test')],
    });
    expect(everything).not.toContain(s3.credentials.secretAccessKey);
    expect(everything).not.toContain(s3.credentials.accessKeyId);
    expect(seen.logs('build').some((l) => l.startsWith('AWS_'))).toBe(false);
    expect(seen.logs('build').some((l) => l.startsWith('MAESTRO_ARTIFACTS='))).toBe(true); // env was printed

    // The attack: the object is replaced in the bucket by someone who can write it.
    await s3.client().send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: `e2e/sha256/${hex}`,
        Body: '#!/bin/sh\necho hello 1.2.3; echo pwned\n',
      }),
    );
    const second = await run(dir, dataDir, env);
    expect(second.code).toBe(1);
    const after = evidence(dataDir, second.runId);
    expect(after.tasks).toEqual({ build: 'succeeded', test: 'failed' });
    const testLog = after.logs('test').join('\n');
    expect(testLog).toMatch(
      /cannot prepare the workspace: the artifact store s3:\/\/.* returned .* for sha256:[0-9a-f]{64} .*: refused/,
    );
    expect(testLog).not.toContain('pwned');
    // Refused before it started: the test task has no attempt that ran.
    expect(after.attempts.filter((a) => a.taskId === 'test')).toEqual([]);
  }, 180_000);

  it('keeps local tasks’ artifacts in the data dir: nothing goes to the bucket', async () => {
    const dir = repository('local');
    const dataDir = tempDir('maestro-s3-e2e-local-');
    const result = await run(dir, dataDir, envFor(dir, 'local-only/'));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(evidence(dataDir, result.runId).logs('test')).toContain('tested hello 1.2.3');
    expect(await keysUnder('local-only/')).toEqual([]);
  }, 120_000);
});
