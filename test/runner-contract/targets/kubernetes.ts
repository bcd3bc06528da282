/**
 * The Kubernetes runner against the test control plane's real API server, Job controller,
 * garbage collector and scheduler (test/setup/k8s-cluster.ts). kwok plays the kubelet, so no
 * command executes: each contract case's task is simulated by the `SIM_*` env the kwok Stages
 * read (test/setup/kwok-stages.yaml); exit codes, termination messages (the outputs channel),
 * run time and the canned container log (with KWOK_PEM in it) come from there.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BatchV1Api, CoreV1Api } from '@kubernetes/client-node';
import { RUNNER_FACTORIES } from '../../../runners/index.ts';
import { jobName, secretNameOf } from '../../../runners/kubernetes/index.ts';
import { s3ArtifactStore, type ArtifactStore } from '../../../engine/index.ts';
import { uploadName } from '../../../engine/artifact-store/artifact-store.ts';
import { extractUpload } from '../../../engine/upload-extract.ts';
import type { AttemptRef, Runner } from '../../../core/index.ts';
import { KWOK_PEM, startTestCluster, type TestCluster } from '../../setup/k8s-cluster.ts';
import { prepareRunnerNamespaces } from '../../setup/k8s-runner-namespaces.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { tempDir } from '../../helpers/engine-fixtures.ts';
import { runKeepSidecar } from '../../helpers/keep-sidecar.ts';
import { startS3Server, type S3Server } from '../../setup/s3-server.ts';
import type { ContractTarget } from '../target.ts';
import { requestMaker } from './shared.ts';

const NS = 'maestro-contract';

export function kubernetesTarget(): ContractTarget {
  const requests = requestMaker('k8s');
  const runners: Runner[] = [];
  let cluster: TestCluster | undefined;
  let batch: BatchV1Api;
  let core: CoreV1Api;
  let section: Record<string, unknown> = {};
  let s3: S3Server | undefined;
  let store: ArtifactStore | undefined;
  const jobsOf = async (ref: AttemptRef) =>
    (await batch.listNamespacedJob({ namespace: NS, labelSelector: `maestro.dev/run-id=${ref.runId}` }))
      .items;
  const podsOf = async (ref: AttemptRef) =>
    (
      await core.listNamespacedPod({
        namespace: NS,
        labelSelector: `batch.kubernetes.io/job-name=${jobName(ref)}`,
      })
    ).items;
  return {
    kind: 'kubernetes',
    executes: false,
    sdkTask: 'simulated',
    messagesFile: false,
    afterEngineKill: 'reattached',
    pem: KWOK_PEM,
    async setup() {
      cluster = await startTestCluster();
      s3 = await startS3Server();
      store = s3ArtifactStore(s3.storeOptions('contract/'));
      batch = cluster.admin.makeApiClient(BatchV1Api);
      core = cluster.admin.makeApiClient(CoreV1Api);
      await prepareRunnerNamespaces(cluster, [NS]);
      section = {
        kubeconfig: cluster.runnerKubeconfig,
        namespaces: { 'team-a': NS },
        defaultImage: 'registry.example/maestro/task:1',
        ttlSecondsAfterFinished: 600,
        artifactUpload: { image: 'registry.example/maestro/curl:8' },
        resourceClasses: {
          small: { requests: { cpu: '100m', memory: '64Mi' }, nodeSelector: { type: 'kwok' } },
        },
      };
    },
    async teardown() {
      for (const r of runners) await r.close?.();
      await cluster?.stop();
      store?.close();
      await s3?.stop();
      requests.cleanup();
    },
    section: () => section,
    runner() {
      const runner = RUNNER_FACTORIES.kubernetes!.create(section, {
        baseEnv: {},
        hiddenPaths: [],
        localSandbox: 'bwrap',
      });
      runners.push(runner);
      return runner;
    },
    // The script is carried in the Job as it would run; kwok reads only the SIM_* env.
    request: (program, overrides = {}) =>
      requests.make({ kind: 'shell', script: program.script }, program.sim, overrides),
    // A finished Job stays as the attempt's record until its TTL (ttlSecondsAfterFinished); what
    // must be gone is anything still running: a Job without a final condition, or a live pod.
    gone: (ref) =>
      waitFor(
        `the Job of ${ref.attemptId} finished or deleted, and no pod of it running`,
        async () => {
          const unfinished = (await jobsOf(ref)).filter(
            (job) =>
              !job.status?.conditions?.some(
                (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
              ),
          );
          const live = (await podsOf(ref)).filter(
            (pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed',
          );
          return unfinished.length === 0 && live.length === 0 ? true : undefined;
        },
        { timeoutMs: 30_000 },
      ).then(() => undefined),
    alive: async (ref) => (await jobsOf(ref)).length > 0,
    async jobSpec(ref) {
      const job = await waitFor('the Job', async () => (await jobsOf(ref))[0]);
      const container = job.spec!.template.spec!.containers[0]!;
      const keep = job.spec!.template.spec!.initContainers?.find((c) => c.name === 'keep');
      return {
        artifactsEnv: container.env?.find((e) => e.name === 'MAESTRO_ARTIFACTS')?.value,
        artifactsMount: container.volumeMounts?.find((m) => m.name === 'artifacts')?.mountPath,
        keepSidecar: keep && {
          restartPolicy: keep.restartPolicy,
          workReadOnly: keep.volumeMounts?.find((m) => m.name === 'work')?.readOnly === true,
          urlFromSecret:
            keep.env?.find((e) => e.name === 'MAESTRO_KEEP_URL')?.valueFrom?.secretKeyRef?.key ===
            'MAESTRO_KEEP_URL',
        },
        urlInJob: JSON.stringify(job).includes('X-Amz-Signature'),
      };
    },
    keptUpload: {
      keep: async (ref, paths) => ({
        paths,
        url: await store!.uploads!.presignPut(uploadName(ref.attemptId), 600),
        maxBytes: store!.uploads!.maxBytes,
      }),
      async runSidecar(ref, files) {
        const job = await waitFor('the Job', async () => (await jobsOf(ref))[0]);
        // The Secret lives while the attempt runs (it is deleted when the attempt ends).
        const secret = await core.readNamespacedSecret({ name: secretNameOf(jobName(ref)), namespace: NS });
        const secretData = Object.fromEntries(
          Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
        );
        const sidecar = job.spec!.template.spec!.initContainers!.find((c) => c.name === 'keep')!;
        const work = tempDir('maestro-contract-keep-');
        for (const [path, text] of Object.entries(files)) {
          mkdirSync(dirname(join(work, path)), { recursive: true });
          writeFileSync(join(work, path), text);
        }
        const ran = await runKeepSidecar(sidecar, secretData, {
          work,
          keep: tempDir('maestro-contract-keep-tmp-'),
        });
        if (ran.status !== 0) throw new Error(`the keep sidecar failed: ${ran.stderr}`);
        const body = await store!.uploads!.open(uploadName(ref.attemptId));
        const into = tempDir('maestro-contract-kept-');
        await extractUpload(body!, ref.keep!.paths, into, () => {});
        return readTree(into);
      },
    },
  };
}

/** Every file under `dir`, by relative path, as text. */
function readTree(dir: string, rel = ''): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of readdirSync(join(dir, rel)).sort()) {
    const path = rel ? `${rel}/${name}` : name;
    if (statSync(join(dir, path)).isDirectory()) Object.assign(files, readTree(dir, path));
    else files[path] = readFileSync(join(dir, path), 'utf8');
  }
  return files;
}
