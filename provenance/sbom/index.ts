// CycloneDX SBOMs: made from images, attached to them as signed referrers, read, compared.
export { SbomError, SbomReason } from './sbom-errors.ts';
export {
  CYCLONEDX_PREDICATE,
  componentName,
  parseSbom,
  type ParsedSbom,
  type SbomComponent,
} from './sbom-document.ts';
export { parseApkInstalled, parseDpkgStatus, type OsPackage } from './os-packages.ts';
export { buildImageSbom, type ImageFiles, type ImageSbomSubject } from './image-sbom.ts';
export { readImageFiles } from './image-files.ts';
export { attachImageSbom, fetchImageSbom, type VerifiedImageSbom } from './image-sbom-referrer.ts';
export { diffSboms, parseVersionRange, versionSatisfies, type SbomDiff } from './sbom-versions.ts';
