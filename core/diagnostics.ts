/**
 * A diagnostic is one problem found in user input, placed exactly. One list of these feeds the
 * CLI's caret output, the Action's annotations and the App's check-run annotations.
 * Lines and columns are 1-based, as editors and the GitHub Checks API count them.
 */
export const Severity = { error: 'error', warning: 'warning', notice: 'notice' } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

export interface Diagnostic {
  /** Stable, machine-readable code such as `MS1001`; never changes meaning once released. */
  code: string;
  severity: Severity;
  message: string;
  /** How to fix it, when we know. */
  hint?: string;
  /** JSON pointer (RFC 6901) into the manifest, `""` for the whole document. */
  pointer: string;
  file?: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === Severity.error);
}

/** Orders diagnostics by file, then position, then code, so output is stable across runs. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) =>
      (a.file ?? '').localeCompare(b.file ?? '') ||
      a.line - b.line ||
      a.column - b.column ||
      a.code.localeCompare(b.code),
  );
}
