/**
 * Kubernetes pods keep artifacts: the Job's `keep` sidecar (runners/kubernetes/artifacts-keep.ts)
 * uploads a tar of the declared paths with the URL the engine presigned, and the engine reads,
 * checks and keeps what arrived (engine/artifact-upload.ts). kwok runs no container, so the
 * sidecar's script runs for real on the host (sh, tar, curl; with the host's tools and with
 * busybox's) against a real S3-compatible server (gofakes3, its own process), from the Job spec
 * buildAttempt makes and the Secret's values: only the kubelet is played by the test. The Job
 * against the real API server is the runner contract suite's (test/runner-contract).
 * Attacks: an undeclared file, a symlink out of the workspace, a parent symlink into the
 * sidecar's own files, an oversized upload, a pod that PUTs its own tar (`..`, undeclared
 * paths), and the URL in a log, a recorded input or a receipt.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  AttemptOutcome,
  RunnerRegistry,
  policyOff,
  type AttemptResult,
  type KeepUpload,
  type Runner,
  type RunnerStartRequest,
} from '../core/index.ts';
import {
  asyncSqliteStore,
  createEngine,
  openStore,
  s3ArtifactStore,
  type ArtifactStore,
} from '../engine/index.ts';
import { uploadName } from '../engine/artifact-store/artifact-store.ts';
import { extractUpload } from '../engine/upload-extract.ts';
import { createAttestor, loadOrCreateDevKey } from '../provenance/index.ts';
import { buildAttempt, type KubernetesRunnerConfig } from '../runners/kubernetes/index.ts';
import { writeTar } from '../provenance/disclosure/tar-write.ts';
import { planOf, shellTask, tempDir } from './helpers/engine-fixtures.ts';
import { runKeepSidecar, type SidecarTools } from './helpers/keep-sidecar.ts';
import { startS3Server, type S3Server } from './setup/s3-server.ts';

const CONFIG: KubernetesRunnerConfig = {
  defaultImage: 'registry.example/task:1',
  namespaces: { demo: 'maestro-runs' },
  resourceClasses: { small: {} },
  artifactUpload: { image: 'registry.example/curl:8' },
};

let s3: S3Server;
let store: ArtifactStore;
beforeAll(async () => {
  s3 = await startS3Server();
  store = s3ArtifactStore(s3.storeOptions('keep/'));
});
afterAll(async () => {
  store?.close();
  await s3?.stop();
});

function attemptRequest(keep: KeepUpload, extra: Partial<RunnerStartRequest> = {}): RunnerStartRequest {
  return {
    runId: 'r-keep',
    taskId: 'build',
    attempt: 1,
    attemptId: `r-keep/build/${Math.random()}`,
    command: { kind: 'shell', script: 'true' },
    env: {},
    redact: [],
    workDir: '/w',
    artifactsDir: '/a',
    resources: 'small',
    namespace: 'demo',
    outputs: [],
    keep,
    ...extra,
  };
}

/** The Job's sidecar and the Secret's values, as buildAttempt makes them. */
function sidecarOf(request: RunnerStartRequest) {
  const built = buildAttempt(request, 'maestro-runs', {}, CONFIG);
  const container = built.job.spec!.template.spec!.initContainers!.find((c) => c.name === 'keep')!;
  return { container, secretData: built.secretData, job: built.job };
}

async function keepFor(
  attemptId: string,
  paths: string[],
  maxBytes = store.uploads!.maxBytes,
): Promise<KeepUpload> {
  return { paths, url: await store.uploads!.presignPut(uploadName(attemptId), 600), maxBytes };
}

/** What the engine would keep of the attempt's upload: every file it extracts, as text. */
async function ingest(attemptId: string, declared: string[], from = store) {
  const body = await from.uploads!.open(uploadName(attemptId));
  if (!body) return undefined;
  const into = tempDir('maestro-keep-into-');
  const skipped: string[] = [];
  await extractUpload(body, declared, into, (s) => skipped.push(`${s.path}:${s.kind}`));
  const files: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full, `${rel}${name}/`);
      else files[`${rel}${name}`] = readFileSync(full, 'utf8');
    }
  };
  walk(into, '');
  return { files, skipped, into };
}

describe.each<SidecarTools>(['host', 'busybox'])(
  "the keep sidecar's script, run with the %s shell and tar",
  (tools) => {
    it('uploads the declared paths only, never through a symlink, and the engine keeps them', async () => {
      const work = tempDir('maestro-keep-work-');
      const outside = tempDir('maestro-keep-outside-');
      writeFileSync(join(outside, 'secret'), 'the sidecar must not read this\n');
      mkdirSync(join(work, 'dist/sub'), { recursive: true });
      writeFileSync(join(work, 'dist/app'), '#!/bin/sh\necho app\n', { mode: 0o755 });
      writeFileSync(join(work, 'dist/sub/notes.txt'), 'notes\n');
      mkdirSync(join(work, 'reports'));
      writeFileSync(join(work, 'reports/r.txt'), 'ok\n');
      writeFileSync(join(work, 'undeclared.txt'), 'not declared\n');
      symlinkSync('/etc/passwd', join(work, 'dist/passwd'));
      symlinkSync(outside, join(work, 'out'));
      const declared = ['dist', 'reports/r.txt', 'out/secret', 'missing'];
      const request = attemptRequest(await keepFor('x', declared));
      request.keep = await keepFor(request.attemptId, declared);
      const { container, secretData } = sidecarOf(request);
      const ran = await runKeepSidecar(
        container,
        secretData,
        { work, keep: tempDir('maestro-keep-tmp-') },
        tools,
      );
      expect(ran.status, ran.stderr).toBe(0);
      expect(ran.stdout + ran.stderr).not.toContain('X-Amz-Signature');
      const kept = await ingest(request.attemptId, declared);
      expect(kept!.files).toEqual({
        'dist/app': '#!/bin/sh\necho app\n',
        'dist/sub/notes.txt': 'notes\n',
        'reports/r.txt': 'ok\n',
      });
      expect(statSync(join(kept!.into, 'dist/app')).mode & 0o111).not.toBe(0);
      expect(kept!.skipped).toEqual(['dist/passwd:symlink']);
      expect(ran.stderr).toContain('keep: out/secret is under a symlink: not uploaded');
      expect(ran.stderr).toContain('keep: missing is not in the workspace');
      expect(ran.stdout).toMatch(/^keep: 2 path\(s\) uploaded, \d+ bytes$/m);
    }, 60_000);

    it('refuses to upload more than the engine reads', async () => {
      const work = tempDir('maestro-keep-work-');
      mkdirSync(join(work, 'dist'));
      writeFileSync(join(work, 'dist/big'), Buffer.alloc(10_000, 1));
      const request = attemptRequest(await keepFor('x', ['dist']));
      request.keep = await keepFor(request.attemptId, ['dist'], 4096);
      const { container, secretData } = sidecarOf(request);
      const ran = await runKeepSidecar(
        container,
        secretData,
        { work, keep: tempDir('maestro-keep-tmp-') },
        tools,
      );
      expect(ran.status).toBe(1);
      expect(ran.stderr).toMatch(
        /keep: the artifacts are \d+ bytes, more than the 4096 accepted: not uploaded/,
      );
      expect(await store.uploads!.open(uploadName(request.attemptId))).toBeUndefined();
    }, 60_000);
  },
);

describe('the upload, from the engine side', () => {
  it('refuses an upload past its limit, however the pod sent it', async () => {
    const small = s3ArtifactStore({ ...s3.storeOptions('keep/'), maxUploadBytes: 4096 });
    const name = uploadName('r/oversized/1');
    const url = await small.uploads!.presignPut(name, 600);
    const put = await fetch(url, {
      method: 'PUT',
      body: writeTar([{ path: 'dist/big', data: Buffer.alloc(10_000, 1) }]),
    });
    expect(put.ok).toBe(true);
    await expect(small.uploads!.open(name)).rejects.toMatchObject({ code: 'artifact_upload_too_large' });
    small.close();
  });
});

/**
 * A runner of kind `kubernetes` whose "pods" run on the host: the task's script in a fresh folder
 * (its emptyDir), then the Job's real keep sidecar (or, for the attacks, the pod's own PUT).
 */
function hostPodRunner(pod: (url: string, work: string) => Promise<void> = async () => {}) {
  const requests: RunnerStartRequest[] = [];
  const runner: Runner & { requests: RunnerStartRequest[] } = {
    kind: 'kubernetes',
    fetchesReceived: true,
    uploadsKept: true,
    requests,
    posture: () => ({ privileged: false, hostNetwork: false }),
    async start(request) {
      requests.push(request);
      const startedAt = Date.now();
      const work = tempDir('maestro-keep-pod-');
      const inputs = tempDir('maestro-keep-pod-in-');
      // The init container's part (run on Podman in kubernetes-artifacts-init.test.ts).
      for (const r of request.received ?? []) {
        mkdirSync(join(inputs, r.path, '..'), { recursive: true });
        writeFileSync(join(inputs, r.path), Buffer.from(await (await fetch(r.url)).arrayBuffer()), {
          mode: r.executable ? 0o555 : 0o444,
        });
      }
      const script = request.command.kind === 'shell' ? request.command.script : 'false';
      const task = spawnSync('sh', ['-c', script], {
        cwd: work,
        env: { PATH: process.env.PATH, MAESTRO_ARTIFACTS: inputs },
        encoding: 'utf8',
      });
      if (request.keep) {
        const { container, secretData } = sidecarOf(request);
        await pod(secretData.MAESTRO_KEEP_URL!, work);
        const ran = await runKeepSidecar(container, secretData, { work, keep: tempDir('maestro-keep-tmp-') });
        if (ran.status !== 0) throw new Error(ran.stderr);
      }
      const lines = `${task.stdout}`.split('\n').filter(Boolean);
      const result: AttemptResult = {
        outcome: task.status === 0 ? AttemptOutcome.succeeded : AttemptOutcome.failed,
        exitCode: task.status,
        retryable: false,
        outputs: {},
        startedAt,
        finishedAt: Date.now(),
      };
      return {
        async *logs() {
          for (const text of lines) yield { stream: 'stdout' as const, text, time: Date.now() };
        },
        wait: async () => result,
        cancel: async () => {},
      };
    },
  };
  return runner;
}

async function runOn(runner: Runner, prefix: string) {
  const dataDir = tempDir();
  const db = openStore({ dataDir });
  const bucket = s3ArtifactStore(s3.storeOptions(prefix));
  const engine = createEngine({
    policy: policyOff('keep test'),
    store: asyncSqliteStore(db),
    dataDir,
    runners: new RunnerRegistry().register(runner),
    artifacts: { store: bucket, runners: ['kubernetes'] },
    attestor: createAttestor({ signer: await loadOrCreateDevKey(dataDir) }),
    leaseMs: 60_000,
  });
  const runId = await engine.submit(
    planOf([
      shellTask(
        'build',
        "mkdir -p dist && printf '#!/bin/sh\\necho hello\\n' > dist/hello && chmod +x dist/hello",
        {
          artifacts: ['dist'],
          runner: 'kubernetes',
        },
      ),
      shellTask('test', 'test "$("$MAESTRO_ARTIFACTS/build/dist/hello")" = hello && echo tested', {
        needs: ['build'],
        runner: 'kubernetes',
      }),
    ]),
  );
  const status = (await engine.execute(runId)).status;
  const keys =
    (await s3.client().send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }))).Contents?.map(
      (o) => o.Key!,
    ) ?? [];
  const evidence = {
    status,
    keys,
    tasks: Object.fromEntries(db.listTasks(runId).map((t) => [t.taskId, t])),
    attempts: db.listAttempts(runId),
    logs: (task: string) => db.listLogs(runId, task).map((l) => l.text),
    receipts: db.listReceipts(runId),
  };
  return { ...evidence, done: () => (bucket.close(), db.close()) };
}

const HELLO = '#!/bin/sh\necho hello\n';
const HELLO_HEX = createHash('sha256').update(HELLO).digest('hex');

describe('the engine keeps what a pod uploaded', () => {
  it('hands the build to its dependant by digest, attests it, removes the upload, and never records the URL', async () => {
    const pod = hostPodRunner();
    const run = await runOn(pod, 'e2e-keep/');
    expect(run.status, JSON.stringify(run.logs('build'))).toBe('succeeded');
    expect(run.logs('test')).toContain('tested');
    // Content-addressed in the bucket; the per-attempt upload is gone.
    expect(run.keys).toEqual([`e2e-keep/sha256/${HELLO_HEX}`]);
    expect(pod.requests[1]!.received).toMatchObject([
      { path: 'build/dist/hello', digest: `sha256:${HELLO_HEX}`, executable: true },
    ]);
    const receipt = run.receipts.find((r) => r.taskId === 'build')!;
    const payload = (receipt.bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope.payload;
    expect(JSON.parse(Buffer.from(payload, 'base64').toString()).subject).toEqual([
      { name: 'artifacts/dist/hello', digest: { sha256: HELLO_HEX } },
    ]);
    const url = pod.requests[0]!.keep!.url;
    expect(url).toContain('X-Amz-Signature');
    const recorded = JSON.stringify([
      run.attempts,
      run.tasks,
      run.receipts,
      run.logs('build'),
      run.logs('test'),
    ]);
    expect(recorded).not.toContain('X-Amz-Signature');
    expect(recorded).not.toContain(new URL(url).searchParams.get('X-Amz-Signature')!);
    run.done();
  }, 120_000);

  it('refuses a pod that uploads its own tar: a `..` path, or a file it did not declare', async () => {
    for (const [prefix, entry] of [
      ['evil-dotdot/', { path: 'dist/../../../escaped', data: Buffer.from('x') }],
      ['evil-undeclared/', { path: '.git/config', data: Buffer.from('[core]\n') }],
    ] as const) {
      // The sidecar finds nothing declared (the task wrote nothing), so the pod's PUT stays.
      const pod = hostPodRunner(async (url) => {
        const put = await fetch(url, { method: 'PUT', body: writeTar([entry]) });
        expect(put.ok).toBe(true);
      });
      pod.start = (
        (start) => (request: RunnerStartRequest) =>
          start({ ...request, command: { kind: 'shell', script: 'true' } })
      )(pod.start.bind(pod));
      const run = await runOn(pod, prefix);
      expect(run.tasks.build!.state).toBe('failed');
      const build = run.attempts.find((a) => a.taskId === 'build')!;
      expect(build.reason).toBe('artifact_upload_refused');
      expect(run.logs('build').join('\n')).toContain("the pod's upload was refused");
      expect(run.keys).toEqual([]); // nothing kept, and the upload removed
      expect(existsSync(build.artifactsDir) ? readdirSync(build.artifactsDir) : []).toEqual([]);
      run.done();
    }
  }, 120_000);

  it('fails a succeeded attempt whose pod uploaded nothing (artifact_missing)', async () => {
    const pod = hostPodRunner();
    pod.start = (
      (start) => (request: RunnerStartRequest) =>
        start({ ...request, command: { kind: 'shell', script: 'true' } })
    )(pod.start.bind(pod));
    const run = await runOn(pod, 'nothing/');
    expect(run.attempts.find((a) => a.taskId === 'build')!.reason).toBe('artifact_missing');
    run.done();
  }, 120_000);
});
