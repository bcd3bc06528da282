/**
 * scripts/release.ts, run as release.yml runs it (`node scripts/release.ts --out <dir> --image …`),
 * with the image built by Podman on a local stand-in for the Node base image (test/setup/
 * node-base-image.ts, installing offline from the host's npm cache: no registry here) and pushed
 * to a real OCI 1.1 registry (maestro-oci-registry). The script verifies its own work with
 * `maestro verify` and `maestro image verify` before it exits 0; then its output is checked again
 * as a user would: the provenance with the files as artifacts, the image's signature, its SBOM
 * and provenance referrers, the SBOMs stored through `maestro sbom add` (verified) and queried.
 */
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { homedir } from 'node:os';
import {
  createRegistryClient,
  parseImageReference,
  parseSbom,
  readTgzStrict,
  RELEASE_BUILD_TYPE,
  SLSA_PROVENANCE_V1,
  verifyImageAttestation,
} from '../provenance/index.ts';
import { captureIo } from './cli-helpers.ts';
import { freshKeySignerPem } from './helpers/provenance-keys.ts';
import { packTarball, warmNpmCache, withPackLock } from './helpers/pack-tarball.ts';
import { ensureNodeBaseImage } from './setup/node-base-image.ts';
import { startOciRegistry, type OciRegistry } from './setup/oci-registry.ts';

const repo = join(import.meta.dirname, '..');
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;
let work: string;
let out: string;
let publicKey: string;
const file = (name: string) => join(out, name);
const pkg = () => file(`summit-maestro-${version}.tgz`);
const action = () => file(`summit-maestro-action-${version}.tgz`);
const sbom = () => file(`summit-maestro-${version}.cdx.json`);
const provenance = () => file(`summit-maestro-${version}.provenance.sigstore.json`);
const imageManifest = () => file(`summit-maestro-${version}.image.manifest.json`);
const imageSbom = () => file(`summit-maestro-${version}.image.cdx.json`);
let registry: OciRegistry;
let imageDigest: string;
const pinned = () => `${registry.host}/summit-maestro@${imageDigest}`;
const installed = (name: string) =>
  (JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
    .version;
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'maestro-release-'));
  out = join(work, 'release');
  const keys = join(work, 'keys');
  mkdirSync(keys, { mode: 0o700 });
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(keys, 'release.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), {
    mode: 0o600,
  });
  publicKey = join(keys, 'release.pub.pem');
  writeFileSync(publicKey, pair.publicKey.export({ type: 'spki', format: 'pem' }));
  // Not keyless here: no OIDC token outside Actions; the operator key signs.
  const env: Record<string, string | undefined> = {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
    MAESTRO_SIGNING_KEY: join(keys, 'release.pem'),
    MAESTRO_DATA_DIR: join(work, 'data'),
  };
  for (const name of ['GITHUB_ACTIONS', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'MAESTRO_SIGNING']) delete env[name];
  registry = await startOciRegistry();
  const baseImage = ensureNodeBaseImage();
  // The image build installs offline: the host's npm cache must hold the package's dependencies.
  warmNpmCache(await packTarball(work));
  const image = [
    ...['--image', `${registry.host}/summit-maestro`],
    ...['--build-arg', `NODE_IMAGE=${baseImage}`, '--build-arg', 'NPM_FLAGS=--offline'],
    ...['--build-volume', `${join(homedir(), '.npm')}:/root/.npm:O`],
  ];
  // npm pack's prepack rebuilds dist/: one pack of this repository at a time.
  const printed = await withPackLock(() =>
    execFileSync(process.execPath, ['scripts/release.ts', '--out', out, ...image], {
      cwd: repo,
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  imageDigest = /image: \S+@(sha256:[0-9a-f]{64})/.exec(printed)![1]!;
}, 1_500_000);

afterAll(async () => {
  await registry?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const io = captureIo(work, { PATH: process.env.PATH, HOME: work, MAESTRO_DATA_DIR: join(work, 'store') });
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

async function verify(args: string[]) {
  const io = captureIo(work, { PATH: process.env.PATH, HOME: work });
  const code = await runCli(['verify', provenance(), ...args], io);
  return { code, out: io.out(), err: io.err() };
}

describe('scripts/release.ts', () => {
  it('writes the package, the Action bundle, the SBOM, the signed provenance and SHA256SUMS', () => {
    const sums = readFileSync(file('SHA256SUMS'), 'utf8').trim().split('\n');
    const names = [pkg(), action(), sbom(), imageManifest(), imageSbom(), provenance()];
    expect(sums).toEqual(names.map((p) => `${sha256(p)}  ${p.slice(out.length + 1)}`));
  });

  it('signs SLSA v1 provenance that maestro verify accepts with the release key, each file a subject', async () => {
    const ok = await verify([
      '--key',
      publicKey,
      '--artifact',
      pkg(),
      '--artifact',
      action(),
      '--artifact',
      sbom(),
      '--format',
      'json',
    ]);
    expect(ok.code, ok.err).toBe(0);
    const report = JSON.parse(ok.out) as {
      subjects: { name: string; digest: { sha256: string } }[];
      artifacts: { name: string }[];
    };
    expect(report.artifacts).toHaveLength(3);
    expect(report.subjects).toHaveLength(6);
    const subject = report.subjects.find((s) => s.name === `summit-maestro-${version}.tgz`);
    expect(subject?.digest.sha256).toBe(sha256(pkg()));
    const bundle = JSON.parse(readFileSync(provenance(), 'utf8')) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as {
      predicateType: string;
      predicate: {
        buildDefinition: { buildType: string; resolvedDependencies: { digest: Record<string, string> }[] };
      };
    };
    expect(statement.predicateType).toBe('https://slsa.dev/provenance/v1');
    expect(statement.predicate.buildDefinition.buildType).toBe(RELEASE_BUILD_TYPE);
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
    expect(statement.predicate.buildDefinition.resolvedDependencies[0]?.digest['gitCommit']).toBe(head);
  });

  it('is rejected with another key, and for a tarball that is not the one attested', async () => {
    const other = join(work, 'other.pub.pem');
    writeFileSync(other, freshKeySignerPem());
    expect((await verify(['--key', other])).code).toBe(1);
    const changed = join(work, `summit-maestro-${version}.tgz`);
    copyFileSync(pkg(), changed);
    writeFileSync(changed, Buffer.concat([readFileSync(changed), Buffer.from([0])]));
    const tampered = await verify(['--key', publicKey, '--artifact', changed]);
    expect(tampered.code).toBe(1);
    expect(tampered.err).toContain('FAILED');
  });

  it("lists the package's production dependencies with their installed versions, and no dev ones", () => {
    const bom = JSON.parse(readFileSync(sbom(), 'utf8')) as {
      bomFormat: string;
      metadata: { component: { name: string; version: string } };
      components: Component[];
    };
    interface Component {
      name: string;
      group?: string;
      version: string;
      components?: Component[];
    }
    const all: Component[] = [];
    const walk = (cs: Component[] = []) => cs.forEach((c) => (all.push(c), walk(c.components)));
    walk(bom.components);
    expect(bom.bomFormat).toBe('CycloneDX');
    expect(bom.metadata.component).toMatchObject({ name: 'summit-maestro', version });
    const installed = (name: string) =>
      (
        JSON.parse(readFileSync(join(repo, 'node_modules', name, 'package.json'), 'utf8')) as {
          version: string;
        }
      ).version;
    expect(all.find((c) => c.name === 'commander' && !c.group)?.version).toBe(installed('commander'));
    expect(all.some((c) => c.name === 'vitest')).toBe(false);
  });

  it('builds, pushes and signs the image: maestro image verify accepts it, its manifest is a subject of the provenance', async () => {
    const sums = readFileSync(file('SHA256SUMS'), 'utf8');
    expect(sums).toContain(`summit-maestro-${version}.image.manifest.json`);
    expect(sums).toContain(`summit-maestro-${version}.image.cdx.json`);
    expect(`sha256:${sha256(imageManifest())}`).toBe(imageDigest);
    const ok = await verify([
      '--key',
      publicKey,
      '--artifact',
      imageManifest(),
      '--artifact',
      imageSbom(),
      '--format',
      'json',
    ]);
    expect(ok.code, ok.err).toBe(0);
    const report = JSON.parse(ok.out) as { subjects: { name: string; digest: { sha256: string } }[] };
    expect(report.subjects).toContainEqual({
      name: `${registry.host}/summit-maestro`,
      digest: { sha256: imageDigest.slice(7) },
    });
    const image = await cli(['image', 'verify', pinned(), '--key', publicKey, '--format', 'json']);
    expect(image.code, image.err).toBe(0);
    expect(JSON.parse(image.out)).toMatchObject({ ok: true, digest: imageDigest });
    const stranger = join(work, 'stranger.pub.pem');
    writeFileSync(stranger, freshKeySignerPem());
    expect((await cli(['image', 'verify', pinned(), '--key', stranger])).code).toBe(1);
  });

  it("attaches the image's SBOM (its Debian and npm packages) and the provenance to the digest, verified on the way into the store", async () => {
    const bom = parseSbom(readFileSync(imageSbom()), 'image sbom');
    expect(bom.describes).toMatchObject({ name: `${registry.host}/summit-maestro`, version: imageDigest });
    expect(
      bom.components.some((c) => c.name === 'libc6' && c.purl?.startsWith('pkg:deb/debian/libc6@')),
    ).toBe(true);
    expect(bom.components.find((c) => c.name === 'commander')?.version).toBe(installed('commander'));
    const added = await cli(['sbom', 'add', '--image', pinned(), '--key', publicKey, '--format', 'json']);
    expect(added.code, added.err).toBe(0);
    const release = await cli([
      'sbom',
      'add',
      sbom(),
      '--release',
      version,
      '--provenance',
      provenance(),
      '--key',
      publicKey,
      '--format',
      'json',
    ]);
    expect(release.code, release.err).toBe(0);
    expect(JSON.parse(release.out)).toMatchObject({
      kind: 'release',
      version,
      subjectDigest: `sha256:${sha256(pkg())}`,
    });
    const found = await cli([
      'sbom',
      'query',
      '--component',
      'commander',
      '--version',
      `=${installed('commander')}`,
      '--format',
      'json',
    ]);
    const items = (JSON.parse(found.out) as { items: { kind: string; subjectDigest: string }[] }).items;
    expect(items.map((m) => [m.kind, m.subjectDigest]).sort()).toEqual(
      [
        ['image', imageDigest],
        ['release', `sha256:${sha256(pkg())}`],
      ].sort(),
    );
    // A release SBOM that is not the one the provenance names is not stored.
    const edited = join(work, `summit-maestro-${version}.cdx.json`);
    writeFileSync(edited, readFileSync(sbom(), 'utf8').replace('"commander"', '"commandeer"'));
    const refused = await cli([
      'sbom',
      'add',
      edited,
      '--release',
      version,
      '--provenance',
      provenance(),
      '--key',
      publicKey,
    ]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('artifact_mismatch');
    const slsa = await verifyImageAttestation(
      createRegistryClient(),
      parseImageReference(pinned()),
      { publicKeys: [readFileSync(publicKey, 'utf8')], identities: [] },
      SLSA_PROVENANCE_V1,
    );
    expect(slsa.statement.subject).toContainEqual({
      name: `${registry.host}/summit-maestro`,
      digest: { sha256: imageDigest.slice(7) },
    });
  });

  it('packs the Action as action.yml and the committed bundle', async () => {
    const files = await readTgzStrict(readFileSync(action()));
    expect([...files.keys()].sort()).toEqual([
      'action/README.md',
      'action/action.yml',
      'action/dist/index.js',
    ]);
    expect(files.get('action/dist/index.js')?.equals(readFileSync(join(repo, 'action/dist/index.js')))).toBe(
      true,
    );
  });
});
