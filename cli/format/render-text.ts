import type { Diagnostic } from '../../core/index.ts';
import type { ManifestReport } from '../../workspace/index.ts';
import { countDiagnostics } from '../../workspace/index.ts';
import { renderSourceExcerpt } from './source-excerpt.ts';

export interface TextStyle {
  /** ANSI colours (only when writing to a terminal and NO_COLOR is unset). */
  color: boolean;
}

const SGR = { red: '31', yellow: '33', cyan: '36', green: '32', bold: '1', dim: '2' } as const;

/**
 * People's view of a validation: for each diagnostic `file:line:col: severity[CODE]: message`,
 * the source line with a caret, the hint; `ok` for each clean file; a summary line at the end.
 */
export function renderTextReport(reports: readonly ManifestReport[], style: TextStyle): string {
  const paint = (code: string, text: string): string => (style.color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const out: string[] = [];
  for (const report of reports) {
    if (report.diagnostics.length === 0) {
      out.push(`${paint(SGR.green, 'ok')} ${report.file}${describePlan(report)}`);
      continue;
    }
    for (const d of report.diagnostics) out.push(...renderDiagnostic(report, d, paint), '');
  }
  out.push(renderSummary(reports, paint));
  return out.join('\n') + '\n';
}

function renderDiagnostic(
  report: ManifestReport,
  d: Diagnostic,
  paint: (code: string, text: string) => string,
): string[] {
  const colour = d.severity === 'error' ? SGR.red : d.severity === 'warning' ? SGR.yellow : SGR.cyan;
  const head = `${report.file}:${d.line}:${d.column}: ${paint(colour, `${d.severity}[${d.code}]`)}: ${d.message}`;
  const excerpt = renderSourceExcerpt(report.source, d).map((line, i) =>
    i === 1 ? paint(colour, line) : line,
  );
  const hint = d.hint ? [` = ${paint(SGR.bold, 'hint')}: ${d.hint}`] : [];
  return [head, ...excerpt, ...hint];
}

function describePlan(report: ManifestReport): string {
  if (!report.plan) return '';
  const n = report.plan.tasks.length;
  return ` (${report.plan.workflow.kind} ${report.plan.workflow.name}, ${n} task${n === 1 ? '' : 's'})`;
}

function renderSummary(
  reports: readonly ManifestReport[],
  paint: (code: string, text: string) => string,
): string {
  const c = countDiagnostics(reports);
  const files = `${c.files} file${c.files === 1 ? '' : 's'} checked`;
  const counts = `${plural(c.errors, 'error')}, ${plural(c.warnings, 'warning')}`;
  if (c.invalid === 0) return paint(SGR.green, `${files}: all valid (${counts})`);
  return paint(SGR.red, `${files}: ${c.invalid} invalid (${counts})`);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
