// The public face of workspace/: finding manifest files on disk and compiling them into reports.
// The CLI and the Action both use this, so `maestro validate` and the Action cannot disagree.
export { findManifests } from './find-manifests.ts';
export type { ManifestFile, FindManifestsOptions } from './find-manifests.ts';
export { builtinCompiler, builtinCatalog, sourceCompiler } from './builtin-compiler.ts';
export type { SourceCompilerOptions } from './builtin-compiler.ts';
export {
  checkRepositoryTasksCommitted,
  loadRepositoryTasks,
  repositoryTaskFromFiles,
} from './repository-tasks.ts';
export {
  CATALOGS_FILE,
  LOCK_FILE,
  catalogLocation,
  loadLockedCatalogs,
  lockedCatalogsOf,
  parseCatalogsFile,
  parseTasksLock,
} from './catalogs-files.ts';
export type { CatalogReadOptions } from './catalogs-files.ts';
export { lockTasks } from './lock-tasks.ts';
export type { LockTasksOptions, LockTasksResult } from './lock-tasks.ts';
export {
  validateManifests,
  countDiagnostics,
  UNREADABLE_FILE_CODE,
  SYMLINK_OUTSIDE_ROOT_CODE,
} from './validate-manifests.ts';
export type { ManifestReport, CompileFn, CompileOutcome } from './validate-manifests.ts';
export { toJsonReport } from './json-report.ts';
export type { JsonReport, JsonDiagnostic } from './json-report.ts';
// Sources: a run's code at an exact commit, exported read-only once and shared by its tasks.
export { createSourceFetcher } from './source-fetcher.ts';
export type { SourceFetcherOptions } from './source-fetcher.ts';
export type { GitBaseEnv, GitCredential } from './source-git.ts';
export { catalogCredentialFor, catalogTokenVariable } from './catalog-credentials.ts';
export { resolveRunSource, sourceRootOf, sourceRootOfDir } from './resolve-source.ts';
export type { ResolveSourceOptions, ResolvedSource } from './resolve-source.ts';
export { checkRemoteUrl, isRemoteLocation } from './source-url.ts';
export {
  SourceChangedError,
  SourceFetchError,
  SourceRefUnknownError,
  SourceRefusedError,
} from './source-errors.ts';
