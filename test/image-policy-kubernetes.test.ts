/**
 * Verification at Kubernetes-runner start, on the test control plane (real API server and Job
 * controller, kwok as the kubelet) with a real OCI 1.1 registry: a signed image's Job names the
 * verified digest, never the tag; an unsigned image and one signed by a key the policy does not
 * trust create no Job at all, and the attempt fails before it starts with the named reason and
 * the image's digest. kwok runs no container, so what is checked is the Job the API server holds.
 */
import { BatchV1Api } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunnerStartRequest } from '../core/index.ts';
import {
  createImageGate,
  createLocalKeySigner,
  createRegistryClient,
  parseImageReference,
  signImage,
  type ImageDecisionRecord,
} from '../provenance/index.ts';
import { createKubernetesRunner, jobName, type KubernetesRunnerConfig } from '../runners/kubernetes/index.ts';
import { liftSignature } from './helpers/lift-signature.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import { startRegistryProxy, type RegistryProxy } from './helpers/registry-proxy.ts';
import { startTestCluster, type TestCluster } from './setup/k8s-cluster.ts';
import { prepareRunnerNamespaces } from './setup/k8s-runner-namespaces.ts';
import { startOciRegistry, type OciRegistry } from './setup/oci-registry.ts';

const NS = 'maestro-images';
let cluster: TestCluster;
let registry: OciRegistry;
let proxy: RegistryProxy;
let batch: BatchV1Api;
const decisions: ImageDecisionRecord[] = [];
const images: Record<string, { reference: string; digest: string }> = {};
let trustedPem: string;

beforeAll(async () => {
  [cluster, registry] = await Promise.all([startTestCluster(), startOciRegistry()]);
  batch = cluster.admin.makeApiClient(BatchV1Api);
  await prepareRunnerNamespaces(cluster, [NS]);
  const trusted = freshKeyPairPem();
  const stranger = freshKeyPairPem();
  trustedPem = trusted.publicKeyPem;
  const client = createRegistryClient();
  images.signed = registry.pushImage('k8s/app', 'signed', 'signed');
  images.unsigned = registry.pushImage('k8s/app', 'unsigned', 'unsigned');
  images.stranger = registry.pushImage('k8s/app', 'stranger', 'stranger');
  images.moving = registry.pushImage('k8s/app', 'moving', 'moving');
  images.tampered = registry.pushImage('k8s/app', 'tampered', 'tampered');
  proxy = await startRegistryProxy(registry.host);
  await signImage(
    client,
    parseImageReference(images.moving.reference),
    createLocalKeySigner({ privateKeyPem: trusted.privateKeyPem }),
  );
  await signImage(
    client,
    parseImageReference(images.signed.reference),
    createLocalKeySigner({ privateKeyPem: trusted.privateKeyPem }),
  );
  await signImage(
    client,
    parseImageReference(images.stranger.reference),
    createLocalKeySigner({ privateKeyPem: stranger.privateKeyPem }),
  );
  await liftSignature(client, images.signed, images.tampered);
}, 300_000);

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
  await cluster?.stop();
});

function runner() {
  const config: KubernetesRunnerConfig = {
    kubeconfig: cluster.runnerKubeconfig,
    namespaces: { team: NS },
    defaultImage: 'registry.example/unused:1',
    ttlSecondsAfterFinished: 600,
    resourceClasses: { small: { requests: { cpu: '100m', memory: '64Mi' }, nodeSelector: { type: 'kwok' } } },
  } as KubernetesRunnerConfig;
  const imageGate = createImageGate({
    policy: {
      insecureRegistries: [],
      namespaces: {
        team: {
          mode: 'enforce',
          rules: [
            { pattern: `${registry.host}/k8s/**`, trust: { publicKeys: [trustedPem], identities: [] } },
            { pattern: `${proxy.host}/k8s/**`, trust: { publicKeys: [trustedPem], identities: [] } },
          ],
        },
      },
    },
    client: createRegistryClient(),
    record: async (d) => void decisions.push(d),
  });
  return createKubernetesRunner(config, { imageGate });
}

function request(task: string, image = images[task]!.reference): RunnerStartRequest {
  const runId = `run-${task}-${Date.now().toString(36)}`;
  return {
    runId,
    taskId: task,
    attempt: 1,
    attemptId: `${runId}/${task}/1`,
    command: { kind: 'container', image, command: ['true'] },
    env: { SIM_RUN_FOR: '100ms' },
    redact: [],
    workDir: '/unused',
    artifactsDir: '/unused',
    resources: 'small',
    namespace: 'team',
    outputs: [],
  } as RunnerStartRequest;
}

async function jobImage(req: RunnerStartRequest): Promise<string | undefined> {
  const list = await batch.listNamespacedJob({
    namespace: NS,
    labelSelector: `maestro.dev/run-id=${req.runId}`,
  });
  const job = list.items.find((j) => j.metadata?.name === jobName(req));
  return job?.spec?.template.spec?.containers[0]?.image;
}

describe('image policy at Kubernetes-runner start', () => {
  it('a signed image: the Job names the verified digest, not the tag', async () => {
    const r = runner();
    const req = request('signed');
    const handle = await r.start(req);
    const pinned = `${registry.host}/k8s/app@${images.signed!.digest}`;
    expect(await jobImage(req)).toBe(pinned);
    const result = await handle.wait();
    expect(result.image).toMatchObject({ digest: images.signed!.digest, verification: 'verified' });
    await r.close?.();
  }, 120_000);

  it('unsigned, wrong-signer and tampered images: no Job is created, the attempt fails with the reason', async () => {
    const r = runner();
    for (const [task, reason] of [
      ['unsigned', 'ImageUnsigned'],
      ['stranger', 'ImageSignerUntrusted'],
      ['tampered', 'ImageSignatureInvalid'],
    ] as const) {
      const req = request(task);
      const result = await (await r.start(req)).wait();
      expect(result).toMatchObject({ outcome: 'runner_error', reason, retryable: false });
      expect(result.image).toMatchObject({ digest: images[task]!.digest, verification: 'refused' });
      expect(await jobImage(req)).toBeUndefined();
      expect(decisions.find((d) => d.runId === req.runId)).toMatchObject({
        allow: false,
        reasons: [`image refused: ${reason}`],
      });
    }
    await r.close?.();
  }, 120_000);

  it('the tag moves between verification and the Job: the Job still names the digest verified', async () => {
    // The registry re-points the signed tag at unsigned content right after the runner read it.
    proxy.moveTagAfterFirstRead('k8s/app', 'moving', images.unsigned!.digest);
    const r = runner();
    const req = request('moving', `${proxy.host}/k8s/app:moving`);
    const handle = await r.start(req);
    expect(proxy.reads('k8s/app', 'moving')).toBe(1);
    // The move is real: whoever reads the tag now gets the unsigned image.
    const now = await createRegistryClient().resolve(parseImageReference(`${proxy.host}/k8s/app:moving`));
    expect(now.digest).toBe(images.unsigned!.digest);
    expect(await jobImage(req)).toBe(`${proxy.host}/k8s/app@${images.moving!.digest}`);
    const result = await handle.wait();
    expect(result.image).toMatchObject({ digest: images.moving!.digest, verification: 'verified' });
    await r.close?.();
  }, 120_000);

  it('the registry serves other bytes for the verified digest: ImageDigestChanged, no Job', async () => {
    proxy.serveOtherBytes('k8s/app', images.signed!.digest, images.unsigned!.digest);
    const r = runner();
    const req = request('signed', `${proxy.host}/k8s/app@${images.signed!.digest}`);
    const result = await (await r.start(req)).wait();
    expect(result).toMatchObject({ outcome: 'runner_error', reason: 'ImageDigestChanged', retryable: false });
    expect(result.image).toMatchObject({ verification: 'refused' });
    expect(await jobImage(req)).toBeUndefined();
    expect(decisions.find((d) => d.runId === req.runId)).toMatchObject({
      allow: false,
      reasons: ['image refused: ImageDigestChanged'],
    });
    await r.close?.();
  }, 120_000);
});
