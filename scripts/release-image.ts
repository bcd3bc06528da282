/**
 * The container image of a release (scripts/release.ts --image <registry/repository>): built from
 * the release's own npm package with the Containerfile (Podman), pushed, its CycloneDX SBOM made
 * from the image's files, and, once the release's SLSA provenance is signed, the image signed and
 * the SBOM and the provenance attached to its digest as OCI 1.1 referrers. What it writes into
 * the release folder (each a subject of the provenance and a line of SHA256SUMS):
 *   summit-maestro-<v>.image.manifest.json  the image's manifest: its sha256 is the image digest,
 *                                           so `maestro verify --artifact` checks the image too
 *   summit-maestro-<v>.image.cdx.json       the image's SBOM (OS and npm packages)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  attachImageSbom,
  buildImageSbom,
  createRegistryClient,
  parseImageReference,
  pushBundleReferrer,
  readImageFiles,
  signImage,
  type ImageReference,
  type ProvenanceSigner,
  type RegistryClient,
} from '../provenance/index.ts';

export interface ImageOptions {
  /** `registry/repository`; the image is pushed as `<repository>:<version>`. */
  repository: string;
  /** `--build-arg` values for the Containerfile (NODE_IMAGE, NPM_FLAGS). */
  buildArgs: string[];
  /** `--volume` values for the build (an npm cache for an offline build). */
  buildVolumes: string[];
  /** Registries reached over plain HTTP besides loopback ones. */
  insecureRegistries: string[];
  /** For the referrer pushes (Podman's own login serves its push): MAESTRO_REGISTRY_USERNAME/PASSWORD. */
  credentials?: { username: string; password: string };
}

export interface BuiltImage {
  reference: ImageReference;
  /** `registry/repository@sha256:…`. */
  pinned: string;
  digest: string;
  files: string[];
}

const plainHttp = (registry: string, o: ImageOptions) =>
  /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?$/.test(registry) || o.insecureRegistries.includes(registry);

function podman(args: string[]): string {
  return execFileSync('podman', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

/** Builds the image from the packed tarball alone (the Containerfile's context), pushes it. */
function buildAndPush(root: string, pkg: string, tag: string, o: ImageOptions): string {
  const context = mkdtempSync(join(tmpdir(), 'maestro-release-image-'));
  try {
    for (const file of ['Containerfile', '.containerignore'])
      copyFileSync(join(root, file), join(context, file));
    copyFileSync(pkg, join(context, basename(pkg)));
    podman([
      'build',
      ...['--format', 'docker', '--tag', tag],
      ...o.buildArgs.flatMap((a) => ['--build-arg', a]),
      ...o.buildVolumes.flatMap((v) => ['--volume', v]),
      context,
    ]);
    const digestFile = join(context, 'digest');
    const registry = tag.split('/')[0]!;
    podman(['push', '--quiet', `--tls-verify=${!plainHttp(registry, o)}`, '--digestfile', digestFile, tag]);
    return readFileSync(digestFile, 'utf8').trim();
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

/** Build, push, SBOM: the files that go into the provenance. */
export async function buildReleaseImage(
  root: string,
  out: string,
  version: string,
  pkg: string,
  o: ImageOptions,
): Promise<BuiltImage & { client: RegistryClient }> {
  const tag = `${o.repository}:${version}`;
  const pushed = buildAndPush(root, pkg, tag, o);
  const reference = parseImageReference(tag);
  const client = createRegistryClient({
    insecureRegistries: o.insecureRegistries,
    ...(o.credentials ? { credentials: { [reference.registry]: o.credentials } } : {}),
  });
  const manifest = await client.resolve(reference);
  if (manifest.digest !== pushed)
    throw new Error(`the registry serves ${manifest.digest} for ${tag}, not the ${pushed} Podman pushed`);
  const manifestFile = join(out, `summit-maestro-${version}.image.manifest.json`);
  writeFileSync(manifestFile, manifest.bytes);
  const sbomFile = join(out, `summit-maestro-${version}.image.cdx.json`);
  const subject = { name: `${reference.registry}/${reference.repository}`, digest: manifest.digest };
  writeFileSync(sbomFile, await buildImageSbom(subject, await readImageFiles(tag)));
  return {
    client,
    reference: { ...reference, digest: manifest.digest },
    pinned: `${subject.name}@${manifest.digest}`,
    digest: manifest.digest,
    files: [manifestFile, sbomFile],
  };
}

/**
 * After the provenance is signed: the image's signature (cosign's layout), its SBOM and the
 * release provenance itself, each a referrer of the digest.
 */
export async function publishImageAttestations(
  image: BuiltImage & { client: RegistryClient },
  signer: ProvenanceSigner,
  provenanceBundle: unknown,
  predicateType: string,
): Promise<void> {
  const { client, reference } = image;
  await signImage(client, reference, signer);
  const sbom = image.files.find((f) => f.endsWith('.image.cdx.json'))!;
  await attachImageSbom(client, reference, readFileSync(sbom, 'utf8'), signer);
  await pushBundleReferrer(
    client,
    reference,
    await client.resolve(reference),
    provenanceBundle,
    predicateType,
  );
}
