/**
 * What `maestro sbom` keeps and reads in the server's store (the API store: MAESTRO_DATABASE_URL,
 * else the data dir), as `maestro tokens` does: so SBOMs stored here answer GET /v1/sbom. Only
 * verified SBOMs are stored: an image's must be a referrer signed by a trusted signer about that
 * digest; a release's must be a subject of the release's signed provenance.
 */
import { basename } from 'node:path';
import { openApiStore, type ApiStore, type SbomLookup, type StoredSbom } from '../../api/index.ts';
import {
  ProvenanceError,
  SbomError,
  SbomReason,
  fetchImageSbom,
  parseImageReference,
  parseSbom,
  verifyBundle,
  type ParsedSbom,
} from '../../provenance/index.ts';
import { cliRegistryClient } from './registry-client.ts';
import { InputError } from '../../core/index.ts';
import { resolveDataDir } from '../config.ts';
import type { CliIo } from '../io.ts';
import { readInputFile, resolveTrust, type TrustFlags } from './provenance-options.ts';

export function openSbomStore(io: CliIo, dataDir?: string): Promise<ApiStore> {
  return openApiStore({ dataDir: resolveDataDir(dataDir, io), databaseUrl: io.env.MAESTRO_DATABASE_URL });
}

function toStored(
  parsed: ParsedSbom,
  sbom: Omit<StoredSbom, 'digest' | 'document' | 'createdAt'>,
): StoredSbom {
  return { ...sbom, digest: parsed.digest, document: JSON.stringify(parsed.bom), createdAt: Date.now() };
}

/** An image's SBOM from its registry, verified (signer and subject digest), ready to store. */
export async function verifiedImageSbom(
  io: CliIo,
  image: string,
  flags: TrustFlags & { insecureRegistry: string[] },
): Promise<{ stored: StoredSbom; parsed: ParsedSbom; signer: string }> {
  const trust = resolveTrust(io, flags)!;
  const ref = parseImageReference(image);
  const client = cliRegistryClient(io, flags.insecureRegistry);
  const found = await fetchImageSbom(client, ref, {
    publicKeys: trust.publicKey ? [trust.publicKey] : [],
    identities: trust.trustedIdentity ? [trust.trustedIdentity] : [],
  });
  const stored = toStored(found.sbom, {
    kind: 'image',
    subject: `${ref.registry}/${ref.repository}`,
    version: null,
    subjectDigest: found.digest,
  });
  return { stored, parsed: found.sbom, signer: trust.source };
}

/**
 * A release's SBOM file, stored only when the release's signed provenance (scripts/release.ts)
 * verifies against the trust flags and names this exact file as a subject; the release is then
 * identified by its npm package's digest in that same statement.
 */
export function verifiedReleaseSbom(
  io: CliIo,
  file: string,
  version: string,
  provenance: string,
  flags: TrustFlags,
): { stored: StoredSbom; parsed: ParsedSbom; signer: string } {
  const data = readInputFile(io, file, 'SBOM');
  const parsed = parseSbom(data, file);
  const trust = resolveTrust(io, flags)!;
  let bundle: unknown;
  try {
    bundle = JSON.parse(readInputFile(io, provenance, 'provenance').toString('utf8'));
  } catch (cause) {
    if (cause instanceof InputError) throw cause;
    throw new ProvenanceError('bundle_malformed', `${provenance} is not JSON`, { cause });
  }
  const verified = verifyBundle(bundle, { ...trust, artifacts: [{ name: basename(file), data }] });
  const packageName = `summit-maestro-${version}.tgz`;
  const pkg = verified.statement?.subject.find((s) => s.name === packageName);
  if (!pkg?.digest?.sha256)
    throw new SbomError(
      SbomReason.notFound,
      `the provenance ${provenance} names no ${packageName}: not release ${version}`,
      {
        hint: 'give the version the release script built (package.json "version")',
      },
    );
  const stored = toStored(parsed, {
    kind: 'release',
    subject: 'summit-maestro',
    version,
    subjectDigest: `sha256:${pkg.digest.sha256}`,
  });
  return { stored, parsed, signer: trust.source };
}

/** `release:<version>`, `<registry/repo>@sha256:…`, `sha256:…` (the SBOM's or its subject's). */
export function parseSbomSelector(text: string): SbomLookup {
  if (text.startsWith('release:')) return { releaseVersion: text.slice('release:'.length) };
  const at = text.lastIndexOf('@sha256:');
  if (at > 0) return { subjectDigest: text.slice(at + 1) };
  if (/^sha256:[0-9a-f]{64}$/.test(text)) return { digest: text };
  throw new SbomError(SbomReason.notFound, `${text} is neither a file nor a stored SBOM`, {
    hint: 'give a CycloneDX JSON file, release:<version>, <image>@sha256:… or an SBOM digest',
  });
}

export async function storedSbom(store: ApiStore, text: string): Promise<ParsedSbom> {
  const lookup = parseSbomSelector(text);
  const found =
    (await store.getSbom(lookup)) ??
    (lookup.digest ? await store.getSbom({ subjectDigest: lookup.digest }) : undefined);
  if (!found)
    throw new SbomError(SbomReason.notFound, `no stored SBOM for ${text}`, {
      hint: 'store it first with `maestro sbom add`',
    });
  return parseSbom(found.document, text);
}
