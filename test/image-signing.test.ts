/**
 * `maestro image sign|verify` against a real OCI 1.1 registry (maestro-oci-registry, with the
 * referrers API) holding images built with Podman, checked both ways with cosign v2.6.1 (an
 * independent client): cosign verifies what Maestro signed, Maestro verifies what cosign signed,
 * both with `--new-bundle-format` (Sigstore bundles as OCI 1.1 referrers). Refusals: an unsigned
 * image, a bundle whose payload was edited, a signature lifted onto another image, a signature by
 * a key the verifier does not trust, and a tag moved to other content after it was signed.
 *
 * cosign flags, and why: `--tlog-upload=false` / `--insecure-ignore-tlog=true` (a key signature
 * made offline has no Rekor entry), `--trusted-root` (sigstore-js's public-good snapshot, so
 * cosign does not reach for Sigstore's TUF repository), `--allow-http-registry` (the registry is
 * on loopback over plain HTTP). Skipped only when cosign is absent and CI is not set.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundledTrustedRoot,
  createRegistryClient,
  parseImageReference,
  SIGSTORE_BUNDLE_TYPE,
} from '../provenance/index.ts';
import { runCaptured } from './cli-helpers.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import { startOciRegistry, type OciRegistry } from './setup/oci-registry.ts';

const cosignPath = [process.env.MAESTRO_COSIGN, join(homedir(), '.cache/maestro/bin/cosign')].find(
  (p): p is string => !!p && existsSync(p),
);
const run = promisify(execFile);

let dir: string;
let registry: OciRegistry;
const client = createRegistryClient();

async function cosign(args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(cosignPath!, args, {
      cwd: dir,
      env: { PATH: process.env.PATH, HOME: dir, COSIGN_PASSWORD: 'test-only' },
      timeout: 120_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

const cosignVerify = (ref: string, key: string) =>
  cosign([
    'verify',
    '--new-bundle-format',
    '--key',
    key,
    '--insecure-ignore-tlog=true',
    '--trusted-root',
    'trusted_root.json',
    '--allow-http-registry',
    ref,
  ]);

const maestro = (args: string[]) => runCaptured(args, dir, { PATH: process.env.PATH ?? '', HOME: dir });

/** `maestro image verify --format json`: its verdict, whatever the exit code. */
async function verdict(ref: string, key: string) {
  const result = await maestro(['image', 'verify', ref, '--key', key, '--format', 'json']);
  return {
    code: result.code,
    ...(JSON.parse(result.stdout) as { ok: boolean; reason?: string; digest?: string }),
  };
}

describe.skipIf(!cosignPath && !process.env.CI)('maestro image sign and verify, with cosign', () => {
  beforeAll(async () => {
    if (!cosignPath) throw new Error('cosign is not installed: run `bash scripts/setup/cosign.sh` (CI must)');
    dir = mkdtempSync(join(tmpdir(), 'maestro-image-sign-'));
    registry = await startOciRegistry();
    const keys = freshKeyPairPem();
    writeFileSync(join(dir, 'maestro.pem'), keys.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, 'maestro.pub.pem'), keys.publicKeyPem);
    writeFileSync(join(dir, 'trusted_root.json'), JSON.stringify(bundledTrustedRoot()));
    const generated = await cosign(['generate-key-pair']);
    expect(generated.code, generated.output).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await registry?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('cosign verify --new-bundle-format accepts an image Maestro signed; another key is refused', async () => {
    const { reference, digest } = registry.pushImage('team/by-maestro', 'v1', 'maestro');
    const signed = await maestro(['image', 'sign', reference, '--signing-key', 'maestro.pem']);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toContain(`@${digest}`);
    const accepted = await cosignVerify(reference, 'maestro.pub.pem');
    expect(accepted.output).toContain(`"docker-manifest-digest":"${digest}"`);
    expect(accepted.code).toBe(0);
    const refused = await cosignVerify(reference, 'cosign.pub');
    expect(refused.code).not.toBe(0);
  });

  it('maestro image verify accepts an image cosign signed, and names the digest', async () => {
    const { reference, digest } = registry.pushImage('team/by-cosign', 'v1', 'cosign');
    const signed = await cosign([
      'sign',
      '--new-bundle-format',
      '--key',
      'cosign.key',
      '--tlog-upload=false',
      '--allow-http-registry',
      '--yes',
      `${reference.split(':v1')[0]}@${digest}`,
    ]);
    expect(signed.code, signed.output).toBe(0);
    const ok = await verdict(reference, 'cosign.pub');
    expect(ok).toMatchObject({ ok: true, digest, code: 0 });
    // Maestro's own key did not sign it: refused, and named as an untrusted signer.
    expect(await verdict(reference, 'maestro.pub.pem')).toMatchObject({
      ok: false,
      reason: 'ImageSignerUntrusted',
    });
  });

  it('refuses an unsigned image', async () => {
    const { reference } = registry.pushImage('team/unsigned', 'v1', 'nobody signed me');
    expect(await verdict(reference, 'maestro.pub.pem')).toMatchObject({
      ok: false,
      reason: 'ImageUnsigned',
      code: 1,
    });
  });

  it('refuses a tag moved to other content after it was signed', async () => {
    const { reference } = registry.pushImage('team/moved', 'v1', 'the signed one');
    expect((await maestro(['image', 'sign', reference, '--signing-key', 'maestro.pem'])).code).toBe(0);
    expect(await verdict(reference, 'maestro.pub.pem')).toMatchObject({ ok: true });
    const moved = registry.pushImage('team/moved', 'v1', 'swapped in later');
    expect(await verdict(reference, 'maestro.pub.pem')).toMatchObject({ ok: false, reason: 'ImageUnsigned' });
    expect(moved.digest).not.toBe('');
  });

  it('refuses an edited bundle and a signature lifted onto another image', async () => {
    const good = registry.pushImage('team/tamper', 'good', 'good');
    expect((await maestro(['image', 'sign', good.reference, '--signing-key', 'maestro.pem'])).code).toBe(0);
    const ref = parseImageReference(good.reference);
    const [descriptor] = await client.referrers(ref, good.digest, SIGSTORE_BUNDLE_TYPE);
    const manifest = await client.manifest(ref, descriptor!.digest);
    const layer = (manifest.json.layers as { digest: string }[])[0]!;
    const bundle = JSON.parse((await client.blob(ref, layer.digest)).toString('utf8'));

    // Lifted: the same valid bundle, referred to from another image of the repository.
    const other = registry.pushImage('team/tamper', 'other', 'other');
    await client.pushManifest(
      ref,
      Buffer.from(
        JSON.stringify({
          ...manifest.json,
          subject: { ...(manifest.json.subject as object), digest: other.digest },
        }),
      ),
      'application/vnd.oci.image.manifest.v1+json',
    );
    expect(await verdict(other.reference, 'maestro.pub.pem')).toMatchObject({
      ok: false,
      reason: 'ImageSignatureInvalid',
    });

    // Edited: the payload now names a third image, the signature is the original one.
    const third = registry.pushImage('team/tamper', 'third', 'third');
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8'));
    statement.subject[0].digest.sha256 = third.digest.slice(7);
    bundle.dsseEnvelope.payload = Buffer.from(JSON.stringify(statement)).toString('base64');
    const forged = await client.pushBlob(ref, Buffer.from(JSON.stringify(bundle)));
    await client.pushManifest(
      ref,
      Buffer.from(
        JSON.stringify({
          ...manifest.json,
          layers: [{ ...layer, digest: forged.digest, size: forged.size }],
          subject: { ...(manifest.json.subject as object), digest: third.digest },
        }),
      ),
      'application/vnd.oci.image.manifest.v1+json',
    );
    expect(await verdict(third.reference, 'maestro.pub.pem')).toMatchObject({
      ok: false,
      reason: 'ImageSignatureInvalid',
    });
    // cosign agrees on both.
    expect((await cosignVerify(other.reference, 'maestro.pub.pem')).code).not.toBe(0);
    expect((await cosignVerify(third.reference, 'maestro.pub.pem')).code).not.toBe(0);
  });
});
