/**
 * Image SBOMs end to end, as an operator runs them: an image built with Podman (busybox plus a
 * dpkg database and an npm package, as a Debian-based Node image has them) pushed to a real OCI
 * 1.1 registry (maestro-oci-registry), `maestro sbom generate --attach` (the SBOM signed onto the
 * image's digest as a referrer), `maestro sbom add --image` (verified, then stored in the
 * server's store), `maestro sbom query` and `maestro sbom diff`. Refusals, each storing nothing:
 * an SBOM referrer signed by another key, one with no signature at all (a bare CycloneDX
 * artifact), and a signed SBOM about another image referred to from this one.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  attestImage,
  buildImageSbom,
  createRegistryClient,
  CYCLONEDX_PREDICATE,
  parseImageReference,
  resolveSigner,
  SIGSTORE_BUNDLE_TYPE,
} from '../provenance/index.ts';
import { runCaptured } from './cli-helpers.ts';
import { freshKeyPairPem } from './helpers/provenance-keys.ts';
import { startOciRegistry, type OciRegistry } from './setup/oci-registry.ts';
import { TEST_IMAGE } from './setup/podman-service.ts';

let dir: string;
let registry: OciRegistry;
const client = createRegistryClient();
const env = () => ({ PATH: process.env.PATH ?? '', HOME: dir, MAESTRO_DATA_DIR: join(dir, 'data') });
const maestro = (args: string[]) => runCaptured(args, dir, env());

/** Builds and pushes an image holding libc6 (dpkg) and semver `semverVersion` (npm). */
function pushAppImage(
  repository: string,
  tag: string,
  semverVersion: string,
): { reference: string; digest: string } {
  const context = join(dir, `ctx-${tag}`);
  mkdirSync(join(context, 'node_modules', 'semver'), { recursive: true });
  writeFileSync(
    join(context, 'status'),
    'Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9+deb12u4\n',
  );
  // The build's name in os-release makes every image distinct (same content, same digest).
  writeFileSync(join(context, 'os-release'), `ID=debian\nVERSION_ID="12"\nBUILD_ID="${repository}:${tag}"\n`);
  writeFileSync(
    join(context, 'node_modules/semver/package.json'),
    JSON.stringify({ name: 'semver', version: semverVersion }),
  );
  writeFileSync(
    join(context, 'Containerfile'),
    `FROM ${TEST_IMAGE}\nCOPY status /var/lib/dpkg/status\nCOPY os-release /etc/os-release\nCOPY node_modules /opt/app/node_modules\n`,
  );
  const reference = `${registry.host}/${repository}:${tag}`;
  execFileSync('podman', ['build', '-q', '-t', reference, context], { stdio: 'pipe' });
  const digestFile = join(context, 'digest');
  execFileSync('podman', ['push', '-q', '--tls-verify=false', '--digestfile', digestFile, reference], {
    stdio: 'pipe',
  });
  return { reference, digest: execFileSync('cat', [digestFile], { encoding: 'utf8' }).trim() };
}

const addImage = (reference: string, format = 'text') =>
  maestro(['sbom', 'add', '--image', reference, '--key', 'maestro.pub.pem', '--format', format]);
const query = async (component: string, version?: string) => {
  const r = await maestro([
    'sbom',
    'query',
    '--component',
    component,
    ...(version ? ['--version', version] : []),
    '--format',
    'json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return (
    JSON.parse(r.stdout) as {
      items: { subject: string; subjectDigest: string; component: { version: string } }[];
    }
  ).items;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maestro-sbom-image-'));
  registry = await startOciRegistry();
  for (const [name, pair] of [
    ['maestro', freshKeyPairPem()],
    ['stranger', freshKeyPairPem()],
  ] as const) {
    writeFileSync(join(dir, `${name}.pem`), pair.privateKeyPem, { mode: 0o600 });
    writeFileSync(join(dir, `${name}.pub.pem`), pair.publicKeyPem);
  }
}, 120_000);

afterAll(async () => {
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('maestro sbom with images in a registry', () => {
  it('generates the SBOM from the image, attaches it signed, stores it verified, and answers queries', async () => {
    const app = pushAppImage('team/app', 'v1', '7.5.4');
    const generated = await maestro([
      'sbom',
      'generate',
      app.reference,
      '--attach',
      '--signing-key',
      'maestro.pem',
      '-o',
      'app.cdx.json',
    ]);
    expect(generated.code, generated.stderr).toBe(0);
    const [referrer] = await client.referrers(
      parseImageReference(app.reference),
      app.digest,
      SIGSTORE_BUNDLE_TYPE,
    );
    expect(referrer?.annotations?.['dev.sigstore.bundle.predicateType']).toBe(CYCLONEDX_PREDICATE);

    const added = await addImage(app.reference, 'json');
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({
      created: true,
      kind: 'image',
      subjectDigest: app.digest,
    });
    expect(await query('semver', '^7')).toMatchObject([
      { subject: `${registry.host}/team/app`, subjectDigest: app.digest, component: { version: '7.5.4' } },
    ]);
    expect(await query('libc6', '>=2.36 <2.37')).toHaveLength(1);
    expect(await query('semver', '>=7.6')).toEqual([]);

    // A second build with a newer semver: the diff names the change, read from the store.
    const next = pushAppImage('team/app', 'v2', '7.8.6');
    expect(
      (await maestro(['sbom', 'generate', next.reference, '--attach', '--signing-key', 'maestro.pem'])).code,
    ).toBe(0);
    expect((await addImage(next.reference)).code).toBe(0);
    const diff = await maestro([
      'sbom',
      'diff',
      `${registry.host}/team/app@${app.digest}`,
      `${registry.host}/team/app@${next.digest}`,
      '--format',
      'json',
    ]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(JSON.parse(diff.stdout)).toEqual({
      added: [],
      removed: [],
      changed: [{ name: 'semver', from: '7.5.4', to: '7.8.6' }],
    });
  });

  it('refuses an SBOM referrer signed by a key it was not told to trust, and stores nothing', async () => {
    const img = pushAppImage('team/stranger', 'v1', '1.0.0');
    expect(
      (await maestro(['sbom', 'generate', img.reference, '--attach', '--signing-key', 'stranger.pem'])).code,
    ).toBe(0);
    const refused = await addImage(img.reference);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ImageSignerUntrusted');
    expect((await query('semver')).map((m) => m.subjectDigest)).not.toContain(img.digest);
  });

  it('refuses an unsigned SBOM referrer (a bare CycloneDX artifact)', async () => {
    const img = pushAppImage('team/unsigned', 'v1', '1.0.0');
    const ref = parseImageReference(img.reference);
    const image = await client.resolve(ref);
    const sbom = Buffer.from(
      await buildImageSbom(
        { name: `${ref.registry}/${ref.repository}`, digest: img.digest },
        { packageJsons: [] },
      ),
    );
    const layer = await client.pushBlob(ref, sbom);
    const config = await client.pushBlob(ref, Buffer.from('{}'));
    await client.pushManifest(
      ref,
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          artifactType: 'application/vnd.cyclonedx+json',
          config: {
            mediaType: 'application/vnd.oci.empty.v1+json',
            digest: config.digest,
            size: config.size,
          },
          layers: [{ mediaType: 'application/vnd.cyclonedx+json', digest: layer.digest, size: layer.size }],
          subject: { mediaType: image.mediaType, digest: image.digest, size: image.bytes.length },
        }),
      ),
      'application/vnd.oci.image.manifest.v1+json',
    );
    const refused = await addImage(img.reference);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ImageUnsigned');
  });

  it('refuses a signed SBOM of another image referred to from this one (the wrong digest)', async () => {
    const other = pushAppImage('team/lift', 'other', '9.9.9');
    const target = pushAppImage('team/lift', 'target', '1.0.0');
    const signer = await resolveSigner({ dataDir: join(dir, 'data'), keyPath: join(dir, 'maestro.pem') });
    const sbom = JSON.parse(
      await buildImageSbom({ name: 'x', digest: other.digest }, { packageJsons: [] }),
    ) as unknown;
    const attested = await attestImage(
      client,
      parseImageReference(other.reference),
      signer,
      CYCLONEDX_PREDICATE,
      sbom,
    );
    const ref = parseImageReference(target.reference);
    const manifest = await client.manifest(ref, attested.referrer);
    await client.pushManifest(
      ref,
      Buffer.from(
        JSON.stringify({
          ...manifest.json,
          subject: { ...(manifest.json.subject as object), digest: target.digest },
        }),
      ),
      'application/vnd.oci.image.manifest.v1+json',
    );
    const refused = await addImage(target.reference);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ImageSignatureInvalid');
    expect(refused.stderr).toContain('covers another image');
    expect((await query('semver')).map((m) => m.subjectDigest)).not.toContain(target.digest);
  });
});
