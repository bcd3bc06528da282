/**
 * Verification at runner start, through `maestro run` on the container runner (real Podman, a
 * real OCI 1.1 registry): with an `imagePolicy` in the runners file, each image is resolved to its
 * digest, its signature checked against the policy before the container exists, and the digest
 * run, never the tag. Unsigned, wrong signer, and a tag that no longer names the verified content
 * in the engine: the task fails before it starts, with the named reason in the attempt, the
 * decision log and the receipt (which names the digest). Without a policy, the unsigned image
 * runs: the behaviour before this check existed, kept as the first test.
 *
 * Podman's Docker-compatible API cannot be told to pull over plain HTTP per request, and this
 * registry is plain HTTP on loopback: the test pulls each image by digest first (`podman pull
 * --tls-verify=false ref@digest`) and the runner's `pull: never` finds it by digest.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { openStore } from '../engine/index.ts';
import { openDecisionLog } from '../policy/index.ts';
import {
  createLocalKeySigner,
  createRegistryClient,
  parseImageReference,
  signImage,
} from '../provenance/index.ts';
import { captureIo } from './cli-helpers.ts';
import { liftSignature } from './helpers/lift-signature.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import { startRegistryProxy, type RegistryProxy } from './helpers/registry-proxy.ts';
import { startOciRegistry, type OciRegistry } from './setup/oci-registry.ts';
import { ensurePodmanService, type PodmanService } from './setup/podman-service.ts';

let podman: PodmanService;
let registry: OciRegistry;
let proxy: RegistryProxy;
let dir: string;
const images: Record<string, { reference: string; digest: string }> = {};

function pullByDigest(image: { reference: string; digest: string }): void {
  const pinned = `${image.reference.slice(0, image.reference.lastIndexOf(':'))}@${image.digest}`;
  execFileSync('podman', ['pull', '-q', '--tls-verify=false', pinned], { stdio: 'pipe' });
}

beforeAll(async () => {
  podman = await ensurePodmanService();
  registry = await startOciRegistry();
  dir = mkdtempSync(join(tmpdir(), 'maestro-image-policy-'));
  const trusted = freshKeyPairPem();
  const stranger = freshKeyPairPem();
  writeFileSync(join(dir, 'trusted.pub.pem'), trusted.publicKeyPem);
  const client = createRegistryClient();
  images.signed = registry.pushImage('team/app', 'signed', 'signed');
  images.unsigned = registry.pushImage('team/app', 'unsigned', 'unsigned');
  images.stranger = registry.pushImage('team/app', 'stranger', 'stranger');
  images.moving = registry.pushImage('team/app', 'moving', 'moving');
  images.tampered = registry.pushImage('team/app', 'tampered', 'tampered');
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
  for (const image of Object.values(images)) pullByDigest(image);
  // The same registry through a proxy that moves a tag or lies about a digest (helpers/registry-proxy.ts).
  proxy = await startRegistryProxy(registry.host);
  images.movingViaProxy = { reference: `${proxy.host}/team/app:moving`, digest: images.moving.digest };
  // Not execFileSync: the proxy answers from this process, whose event loop must keep running.
  const pinned = `${proxy.host}/team/app@${images.moving.digest}`;
  await promisify(execFile)('podman', ['pull', '-q', '--tls-verify=false', pinned]);
  images.lyingViaProxy = {
    reference: `${proxy.host}/team/app@${images.signed.digest}`,
    digest: images.signed.digest,
  };
}, 180_000);

afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
  await podman?.stop();
});

function runnersFile(name: string, policy: string): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    `container:
  socketPath: ${podman.socketPath}
  defaultImage: ${images.signed!.reference}
  pull: never
  stopGraceMs: 2000
  resourceClasses:
    small: { memoryBytes: 268435456, pids: 256 }
${policy}`,
  );
  return file;
}

const enforce = (mode: string) => `imagePolicy:
  namespaces:
    "*":
      mode: ${mode}
      rules:
        - images: "${registry.host}/team/**"
          keys: [trusted.pub.pem]
        - images: "${proxy.host}/team/**"
          keys: [trusted.pub.pem]
`;

function workflow(tasks: string[]): string {
  const file = join(dir, `wf-${tasks.join('-')}.yaml`);
  const body = tasks
    .map(
      (t) => `    - id: ${t}
      runner: container
      image: ${images[t]!.reference}
      command: ["/bin/sh", "-c", "echo marker=$(cat /marker) >> $MAESTRO_OUTPUT"]
      outputs: [marker]`,
    )
    .join('\n');
  writeFileSync(
    file,
    `apiVersion: maestro/v1
kind: Workflow
metadata: { name: images, namespace: team }
spec:
  defaults: { timeout: 60s }
  tasks:
${body}
`,
  );
  return file;
}

interface Attempt {
  state: string;
  reason?: string;
  outputs: Record<string, string>;
  image?: { reference: string; digest?: string; verification: string; decisionId?: string; signer?: string };
}

async function run(manifest: string, runners: string) {
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const io = captureIo(dir, {});
  const code = await runCli(['run', manifest, '--data-dir', dataDir, '--runners', runners], io);
  const store = openStore({ dataDir });
  const attempts: Record<string, Attempt> = {};
  try {
    const [summary] = store.listRuns({});
    const runId = summary!.id;
    for (const t of store.listTasks(runId)) attempts[t.taskId] = { state: t.state, outputs: {} };
    for (const a of store.listAttempts(runId)) {
      attempts[a.taskId]!.outputs = a.outputs;
      if (a.reason) attempts[a.taskId]!.reason = a.reason;
    }
    for (const r of store.listReceipts(runId)) {
      if (!r.taskId) continue;
      const envelope = (r.bundle as { dsseEnvelope: { payload: string } }).dsseEnvelope;
      const statement = JSON.parse(Buffer.from(envelope.payload, 'base64').toString('utf8'));
      attempts[r.taskId]!.image = statement.predicate.buildDefinition.internalParameters.maestro.image;
    }
  } finally {
    store.close();
  }
  const db = new DatabaseSync(join(dataDir, 'maestro.db'));
  const decisions = await openDecisionLog(db).entries();
  db.close();
  return { code, io, attempts, decisions };
}

describe('image policy at container-runner start', () => {
  it('before (no image policy): the unsigned image runs', async () => {
    const result = await run(workflow(['unsigned']), runnersFile('none.yaml', ''));
    expect(result.attempts.unsigned).toMatchObject({ state: 'succeeded', outputs: { marker: 'unsigned' } });
  });

  it('enforce: the signed image runs by digest; unsigned, wrong-signer and tampered images never start', async () => {
    const result = await run(
      workflow(['signed', 'unsigned', 'stranger', 'tampered']),
      runnersFile('enforce.yaml', enforce('enforce')),
    );
    const { signed, unsigned, stranger } = result.attempts;
    expect(signed, result.io.err()).toMatchObject({ state: 'succeeded', outputs: { marker: 'signed' } });
    expect(signed!.image).toMatchObject({
      reference: images.signed!.reference,
      digest: images.signed!.digest,
      verification: 'verified',
    });
    expect(unsigned).toMatchObject({ reason: 'ImageUnsigned', outputs: {} });
    expect(unsigned!.state).not.toBe('succeeded');
    expect(unsigned!.image).toMatchObject({ digest: images.unsigned!.digest, verification: 'refused' });
    expect(stranger).toMatchObject({ reason: 'ImageSignerUntrusted', outputs: {} });
    expect(stranger!.image).toMatchObject({ digest: images.stranger!.digest, verification: 'refused' });
    // Tampered: the signed image's valid bundle, referred to from another image (lifted).
    const { tampered } = result.attempts;
    expect(tampered).toMatchObject({ reason: 'ImageSignatureInvalid', outputs: {} });
    expect(tampered!.image).toMatchObject({ digest: images.tampered!.digest, verification: 'refused' });
    expect(result.decisions.find((d) => d.decisionId === tampered!.image!.decisionId)).toMatchObject({
      allow: false,
      reasons: ['image refused: ImageSignatureInvalid'],
    });
    // Each decision is in the hash-chained decision log, under the id the receipt names.
    const byId = new Map(result.decisions.map((d) => [d.decisionId, d]));
    expect(byId.get(signed!.image!.decisionId!)).toMatchObject({ taskId: 'signed', allow: true });
    expect(byId.get(unsigned!.image!.decisionId!)).toMatchObject({
      taskId: 'unsigned',
      allow: false,
      reasons: ['image refused: ImageUnsigned'],
    });
    expect(byId.get(stranger!.image!.decisionId!)).toMatchObject({
      allow: false,
      reasons: ['image refused: ImageSignerUntrusted'],
    });
  });

  it('runs the verified digest, not what the tag names in the engine (a re-tagged local image)', async () => {
    // An attacker on the runner host points the signed tag at other content in the engine's store.
    execFileSync('podman', ['tag', `${images.unsigned!.reference}`, images.signed!.reference]);
    try {
      const result = await run(workflow(['signed']), runnersFile('enforce2.yaml', enforce('enforce')));
      expect(result.attempts.signed).toMatchObject({ state: 'succeeded', outputs: { marker: 'signed' } });
      expect(result.attempts.signed!.image!.digest).toBe(images.signed!.digest);
    } finally {
      execFileSync('podman', ['untag', images.unsigned!.reference, images.signed!.reference]);
    }
  });

  it('warn: the unsigned image runs, by digest, and its receipt says it was not verified', async () => {
    const result = await run(workflow(['unsigned']), runnersFile('warn.yaml', enforce('warn')));
    expect(result.attempts.unsigned, JSON.stringify(result.attempts) + result.io.err()).toMatchObject({
      state: 'succeeded',
      outputs: { marker: 'unsigned' },
    });
    expect(result.attempts.unsigned!.image).toMatchObject({
      digest: images.unsigned!.digest,
      verification: 'warned',
    });
    expect(result.decisions.at(-1)).toMatchObject({ allow: true, reasons: ['image warned: ImageUnsigned'] });
  });

  it('the tag moves right after verification: the verified digest runs, never what the tag names now', async () => {
    proxy.moveTagAfterFirstRead('team/app', 'moving', images.unsigned!.digest);
    const result = await run(workflow(['movingViaProxy']), runnersFile('moving.yaml', enforce('enforce')));
    expect(proxy.reads('team/app', 'moving')).toBe(1);
    const now = await createRegistryClient().resolve(parseImageReference(images.movingViaProxy!.reference));
    expect(now.digest).toBe(images.unsigned!.digest); // the move is real
    expect(result.attempts.movingViaProxy, result.io.err()).toMatchObject({
      state: 'succeeded',
      outputs: { marker: 'moving' },
    });
    expect(result.attempts.movingViaProxy!.image).toMatchObject({
      digest: images.moving!.digest,
      verification: 'verified',
    });
  });

  it('the registry serves other bytes for the digest: ImageDigestChanged before the container exists', async () => {
    proxy.serveOtherBytes('team/app', images.signed!.digest, images.unsigned!.digest);
    const result = await run(workflow(['lyingViaProxy']), runnersFile('lying.yaml', enforce('enforce')));
    const attempt = result.attempts.lyingViaProxy!;
    expect(attempt).toMatchObject({ reason: 'ImageDigestChanged', outputs: {} });
    expect(attempt.state).not.toBe('succeeded');
    expect(attempt.image).toMatchObject({
      reference: images.lyingViaProxy!.reference,
      verification: 'refused',
    });
    const decision = result.decisions.find((d) => d.decisionId === attempt.image!.decisionId);
    expect(decision).toMatchObject({ allow: false, reasons: ['image refused: ImageDigestChanged'] });
    const containers = execFileSync(
      'podman',
      ['ps', '-a', '-q', '--filter', 'label=maestro.dev/task-id=lyingViaProxy'],
      { encoding: 'utf8' },
    );
    expect(containers.trim()).toBe('');
  });
});
