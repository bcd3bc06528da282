import type { ManifestReport } from '../../workspace/index.ts';

/**
 * GitHub workflow commands (`::error file=…,line=…::message`), one per diagnostic, so a plain
 * `maestro validate --format github` step in any workflow annotates the manifest lines.
 * Escaping follows the Actions toolkit: data escapes `%`, CR and LF; property values also `:` and `,`.
 */
export function renderGithubReport(reports: readonly ManifestReport[]): string {
  const out: string[] = [];
  for (const report of reports) {
    for (const d of report.diagnostics) {
      const properties = [
        `file=${escapeProperty(report.file)}`,
        `line=${d.line}`,
        `col=${d.column}`,
        `endLine=${d.endLine}`,
        `endColumn=${d.endColumn}`,
        `title=${escapeProperty(`${d.code}: ${firstLine(d.message)}`)}`,
      ].join(',');
      const message = d.hint ? `${d.message}\nhint: ${d.hint}` : d.message;
      out.push(`::${d.severity} ${properties}::${escapeData(message)}`);
    }
  }
  return out.map((line) => line + '\n').join('');
}

export function escapeData(value: string): string {
  return value.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

export function escapeProperty(value: string): string {
  return escapeData(value).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? '';
}
