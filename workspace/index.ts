// The public face of workspace/: finding manifest files on disk and compiling them into reports.
// The CLI and the Action both use this, so `maestro validate` and the Action cannot disagree.
export { findManifests } from './find-manifests.ts';
export type { ManifestFile, FindManifestsOptions } from './find-manifests.ts';
export { builtinCompiler } from './builtin-compiler.ts';
export { validateManifests, countDiagnostics, UNREADABLE_FILE_CODE } from './validate-manifests.ts';
export type { ManifestReport, CompileFn, CompileOutcome } from './validate-manifests.ts';
export { toJsonReport } from './json-report.ts';
export type { JsonReport, JsonDiagnostic } from './json-report.ts';
