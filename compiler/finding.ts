import type { Diagnostic, Severity } from '../core/index.ts';
import type { Code } from './codes.ts';

/**
 * A problem found before positions are known. `pointer` says where (JSON pointer); the locator
 * turns it into line/column only when there is something to report (the fast path never pays).
 */
export interface Finding {
  code: Code;
  severity: Severity;
  message: string;
  hint?: string;
  pointer: string;
  /** Place the diagnostic on the key of `pointer` rather than on its value (unknown properties). */
  onKey?: boolean;
  /** Place it on this substring (an expression) of the string at `pointer`, the `occurrence`-th one. */
  span?: { text: string; occurrence: number };
  /** A position known already (syntax errors): 0-based offsets into the source. */
  offset?: { start: number; end: number };
}

export interface SourcePosition {
  line: number;
  column: number;
}

/** The diagnostic for a finding once its start and end are known (both placers end here). */
export function toDiagnostic(
  finding: Finding,
  start: SourcePosition,
  end: SourcePosition,
  file: string | undefined,
): Diagnostic {
  return {
    code: finding.code,
    severity: finding.severity,
    message: finding.message,
    ...(finding.hint === undefined ? {} : { hint: finding.hint }),
    pointer: finding.pointer,
    ...(file === undefined ? {} : { file }),
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
  };
}

export function escapePointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointerOf(...tokens: (string | number)[]): string {
  return tokens.map((t) => `/${escapePointerToken(t)}`).join('');
}

export function unescapePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}
