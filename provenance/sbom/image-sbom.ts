/**
 * The CycloneDX SBOM of a container image, from the files an image carries: its OS package
 * database (dpkg or apk) and the `package.json` of every npm package under a node_modules folder.
 * The document is built with the CycloneDX library (@cyclonedx/cyclonedx-library), spec 1.6,
 * reproducible: no timestamp, no serial number, components sorted, each `bom-ref` its purl.
 * Both libraries load when an SBOM is built, not with provenance/: every `maestro run` imports
 * provenance/ for its receipts, and the CycloneDX library alone is a few hundred modules.
 */

type Cdx = typeof CdxLibrary;
type PackageUrl = typeof PackageUrlClass;
import type * as CdxLibrary from '@cyclonedx/cyclonedx-library';
import type { PackageURL as PackageUrlClass } from 'packageurl-js';
import { osReleaseId, parseApkInstalled, parseDpkgStatus, type OsPackage } from './os-packages.ts';

/** What readImageFiles collected from an image's filesystem. */
export interface ImageFiles {
  dpkgStatus?: string;
  apkInstalled?: string;
  osRelease?: string;
  /** Each npm package's package.json text, by its path in the image. */
  packageJsons: { path: string; text: string }[];
}

export interface ImageSbomSubject {
  /** `registry/repository` (or a local name such as `localhost/app`). */
  name: string;
  /** The image's manifest digest, or Podman's image id where it has none yet. */
  digest: string;
}

function osComponent(
  CDX: Cdx,
  PackageURL: PackageUrl,
  p: OsPackage,
  distro: string | undefined,
): CdxLibrary.Models.Component {
  const qualifiers: Record<string, string> = p.arch ? { arch: p.arch } : {};
  const purl = new PackageURL(p.ecosystem, distro ?? null, p.name, p.version, qualifiers, null);
  return new CDX.Models.Component(CDX.Enums.ComponentType.Library, p.name, {
    version: p.version,
    purl: purl.toString(),
    bomRef: purl.toString(),
  });
}

function npmComponent(
  CDX: Cdx,
  PackageURL: PackageUrl,
  text: string,
): CdxLibrary.Models.Component | undefined {
  let json: { name?: unknown; version?: unknown; license?: unknown };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    return undefined; // a broken package.json names no package: nothing to list
  }
  if (typeof json.name !== 'string' || typeof json.version !== 'string') return undefined;
  const [group, name] = json.name.startsWith('@') ? json.name.split('/', 2) : [undefined, json.name];
  if (!name) return undefined;
  const purl = new PackageURL('npm', group ?? null, name, json.version, null, null);
  return new CDX.Models.Component(CDX.Enums.ComponentType.Library, name, {
    ...(group ? { group } : {}),
    version: json.version,
    purl: purl.toString(),
    bomRef: purl.toString(),
  });
}

/** Builds the SBOM; the same files always give the same bytes. */
export async function buildImageSbom(subject: ImageSbomSubject, files: ImageFiles): Promise<string> {
  const CDX = await import('@cyclonedx/cyclonedx-library');
  const { PackageURL } = await import('packageurl-js');
  const bom = new CDX.Models.Bom();
  bom.metadata.component = new CDX.Models.Component(CDX.Enums.ComponentType.Container, subject.name, {
    version: subject.digest,
    bomRef: `${subject.name}@${subject.digest}`,
  });
  bom.metadata.tools.components.add(
    new CDX.Models.Component(CDX.Enums.ComponentType.Application, 'summit-maestro'),
  );
  const distro = osReleaseId(files.osRelease);
  const os = [
    ...(files.dpkgStatus ? parseDpkgStatus(files.dpkgStatus) : []),
    ...(files.apkInstalled ? parseApkInstalled(files.apkInstalled) : []),
  ];
  const seen = new Set<string>();
  const add = (c: CdxLibrary.Models.Component | undefined) => {
    if (!c || seen.has(String(c.bomRef.value))) return;
    seen.add(String(c.bomRef.value));
    bom.components.add(c);
  };
  for (const p of os) add(osComponent(CDX, PackageURL, p, distro));
  for (const p of files.packageJsons) add(npmComponent(CDX, PackageURL, p.text));
  const serializer = new CDX.Serialize.JsonSerializer(
    new CDX.Serialize.JSON.Normalize.Factory(CDX.Spec.Spec1dot6),
  );
  return `${serializer.serialize(bom, { sortLists: true, space: 2 })}\n`;
}
