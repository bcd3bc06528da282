import { readFileSync } from 'node:fs';
import type { Diagnostic, Plan } from '../core/index.ts';
import { hasErrors, Severity, sortDiagnostics } from '../core/index.ts';
import type { ManifestFile } from './find-manifests.ts';

/** What the compiler returns for one manifest (compiler/index.ts `compileManifest`). */
export interface CompileOutcome {
  plan?: Plan;
  diagnostics: Diagnostic[];
  kind?: string;
  name?: string;
}

/** Compiles one manifest's bytes; `file` is the display path diagnostics carry. */
export type CompileFn = (source: Uint8Array, file: string) => CompileOutcome;

/** The result for one manifest file: the single shape the CLI formats and the Action annotates. */
export interface ManifestReport {
  /** Display path (relative to the root when inside it). */
  file: string;
  valid: boolean;
  diagnostics: Diagnostic[];
  plan?: Plan;
  kind?: string;
  name?: string;
  /** The text as read (lossy-decoded), so renderers can quote the offending line. */
  source: string;
}

/** Stable code for a manifest file that exists but cannot be read (a surface concern, not the compiler's). */
export const UNREADABLE_FILE_CODE = 'MS9001';

/** Stable code for a manifest path that is a symlink resolving outside the repository root (not read). */
export const SYMLINK_OUTSIDE_ROOT_CODE = 'MS9002';

/**
 * Reads and compiles every file. A file that cannot be read becomes a diagnostic on that file,
 * so one bad path never hides the results of the others.
 */
export function validateManifests(files: readonly ManifestFile[], compile: CompileFn): ManifestReport[] {
  return files.map((file) => validateOne(file, compile));
}

function validateOne(file: ManifestFile, compile: CompileFn): ManifestReport {
  if (file.outsideRoot)
    return refused(file, {
      code: SYMLINK_OUTSIDE_ROOT_CODE,
      message: `${file.display} is a symlink to ${file.outsideRoot.target}, outside the repository root; it was not read`,
      hint: 'commit the manifest itself, or point the link at a file inside the repository',
    });
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file.path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'EIO';
    return refused(file, {
      code: UNREADABLE_FILE_CODE,
      message: `cannot read ${file.display} (${reason})`,
      hint: 'check that the path is a readable file',
    });
  }
  const outcome = compile(bytes, file.display);
  const diagnostics = sortDiagnostics(outcome.diagnostics.map((d) => ({ ...d, file: file.display })));
  const report: ManifestReport = {
    file: file.display,
    valid: !hasErrors(diagnostics),
    diagnostics,
    source: new TextDecoder('utf-8', { fatal: false }).decode(bytes),
  };
  if (outcome.plan && report.valid) report.plan = outcome.plan;
  if (outcome.kind !== undefined) report.kind = outcome.kind;
  if (outcome.name !== undefined) report.name = outcome.name;
  return report;
}

/** A report for a file that was not compiled: one error diagnostic at its first line. */
function refused(
  file: ManifestFile,
  problem: { code: string; message: string; hint: string },
): ManifestReport {
  return {
    file: file.display,
    valid: false,
    source: '',
    diagnostics: [
      {
        ...problem,
        severity: Severity.error,
        pointer: '',
        file: file.display,
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
      },
    ],
  };
}

/** Totals across reports, for summaries and the Action's outputs. */
export function countDiagnostics(reports: readonly ManifestReport[]): {
  files: number;
  invalid: number;
  errors: number;
  warnings: number;
  notices: number;
} {
  const all = reports.flatMap((r) => r.diagnostics);
  return {
    files: reports.length,
    invalid: reports.filter((r) => !r.valid).length,
    errors: all.filter((d) => d.severity === Severity.error).length,
    warnings: all.filter((d) => d.severity === Severity.warning).length,
    notices: all.filter((d) => d.severity === Severity.notice).length,
  };
}
