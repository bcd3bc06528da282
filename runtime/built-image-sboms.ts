/**
 * The engine's BuiltImageRecorder (core/ports/image-gate.ts): for an image a task reports it built
 * and pushed (`{"v":1,"type":"image","reference":"registry/repo@sha256:…"}`), the runtime
 * 1. checks the registry holds that digest (the manifest read is checked against it),
 * 2. makes its CycloneDX SBOM from the image's own files (Podman, by digest: the store is content
 *    addressed, so the files are that digest's, whatever a tag names),
 * 3. signs it onto the digest as an OCI 1.1 referrer with the receipts' signer (the layout of
 *    `cosign attest --new-bundle-format --type cyclonedx`), and
 * 4. stores it in the server's SBOM store, where `maestro sbom query` and GET /v1/sbom find it.
 * The store comes from the surface (the API store lives above the runtime) and opens on first use.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  attachImageSbom,
  isPlainHttpRegistry,
  buildImageSbom,
  parseImageReference,
  parseSbom,
  readImageFiles,
  type ImageFiles,
  type ProvenanceSigner,
  type RegistryClient,
  type SbomComponent,
} from '../provenance/index.ts';
import type { BuiltImageRecorder } from '../core/index.ts';

/** The part of the server's SBOM store the recorder writes (api's ApiStore satisfies it). */
export interface SbomSink {
  putSbom(
    sbom: {
      kind: 'image';
      subject: string;
      version: null;
      subjectDigest: string;
      digest: string;
      document: string;
      createdAt: number;
    },
    components: SbomComponent[],
  ): Promise<{ created: boolean }>;
  close(): Promise<void>;
}

export interface BuiltImageRecorderOptions {
  client: RegistryClient;
  signer: ProvenanceSigner;
  openStore: () => Promise<SbomSink>;
  /** Registries Podman pulls from over plain HTTP besides loopback ones (the image policy's). */
  insecureRegistries?: string[];
  readFiles?: (image: string) => Promise<ImageFiles>;
  now?: () => number;
}

/**
 * A push does not record the pushed digest in Podman's store, so `repository@digest` is pulled
 * first: by digest, so Podman checks the content against it (the layers are local, nothing moves).
 */
async function pullByDigest(pinned: string, registry: string, insecure: string[]): Promise<void> {
  const tls = isPlainHttpRegistry(registry, insecure) ? ['--tls-verify=false'] : [];
  await promisify(execFile)('podman', ['pull', '-q', ...tls, pinned], { timeout: 300_000 });
}

export function createBuiltImageRecorder(
  options: BuiltImageRecorderOptions,
): BuiltImageRecorder & { close(): Promise<void> } {
  let store: Promise<SbomSink> | undefined;
  const readFiles = options.readFiles ?? readImageFiles;
  return {
    async record(report) {
      const ref = parseImageReference(report.image);
      const digest = ref.digest!;
      await options.client.manifest(ref, digest);
      const subject = `${ref.registry}/${ref.repository}`;
      const pinned = `${subject}@${digest}`;
      if (!options.readFiles) await pullByDigest(pinned, ref.registry, options.insecureRegistries ?? []);
      const text = await buildImageSbom({ name: subject, digest }, await readFiles(pinned));
      await attachImageSbom(options.client, ref, text, options.signer);
      const parsed = parseSbom(text, `the SBOM of ${report.image}`);
      const sink = await (store ??= options.openStore());
      await sink.putSbom(
        {
          kind: 'image',
          subject,
          version: null,
          subjectDigest: digest,
          digest: parsed.digest,
          document: JSON.stringify(parsed.bom),
          createdAt: (options.now ?? Date.now)(),
        },
        parsed.components,
      );
      return { sbomDigest: parsed.digest, components: parsed.components.length };
    },
    async close() {
      if (store) await (await store).close();
    },
  };
}
