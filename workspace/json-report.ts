import type { ManifestReport } from './validate-manifests.ts';

export interface JsonDiagnostic {
  code: string;
  severity: string;
  message: string;
  hint: string | null;
  pointer: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface JsonReport {
  files: Array<{ file: string; valid: boolean; diagnostics: JsonDiagnostic[] }>;
}

/**
 * The machine-readable report, a promise to scripts (`maestro validate --format json`, the
 * Action's `format: json`): exactly these keys, in this order; a missing hint is `null`.
 */
export function toJsonReport(reports: readonly ManifestReport[]): JsonReport {
  return {
    files: reports.map((r) => ({
      file: r.file,
      valid: r.valid,
      diagnostics: r.diagnostics.map((d) => ({
        code: d.code,
        severity: d.severity,
        message: d.message,
        hint: d.hint ?? null,
        pointer: d.pointer,
        line: d.line,
        column: d.column,
        endLine: d.endLine,
        endColumn: d.endColumn,
      })),
    })),
  };
}
