import type { ManifestReport } from '../../workspace/index.ts';

/**
 * The machine-readable form, a promise to scripts: exactly
 * `{"files":[{"file","valid","diagnostics":[{"code","severity","message","hint","pointer","line","column","endLine","endColumn"}]}]}`.
 * Keys always appear, in this order; a diagnostic without a hint has `"hint": null`.
 */
export function renderJsonReport(reports: readonly ManifestReport[]): string {
  const files = reports.map((r) => ({
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
  }));
  return JSON.stringify({ files }, null, 2) + '\n';
}
