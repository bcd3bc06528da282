import { error, notice, warning } from '@actions/core';
import type { AnnotationProperties } from '@actions/core';
import type { Diagnostic } from '../core/index.ts';
import type { ManifestReport } from '../workspace/index.ts';

/**
 * One annotation per diagnostic, on its file and line. AnnotationProperties is the Checks API's
 * annotation shape, so the same positions the CLI prints land on the pull request's diff.
 */
export function annotate(reports: readonly ManifestReport[]): void {
  for (const report of reports) {
    for (const d of report.diagnostics) {
      const properties = annotationProperties(report.file, d);
      const message = d.hint ? `${d.message}\nhint: ${d.hint}` : d.message;
      if (d.severity === 'error') error(message, properties);
      else if (d.severity === 'warning') warning(message, properties);
      else notice(message, properties);
    }
  }
}

export function annotationProperties(file: string, d: Diagnostic): AnnotationProperties {
  const properties: AnnotationProperties = {
    title: `${d.code}: ${d.message.split('\n', 1)[0] ?? ''}`,
    file,
    startLine: d.line,
    endLine: d.endLine,
  };
  // GitHub accepts columns only when the annotation stays on one line.
  if (d.endLine === d.line) {
    properties.startColumn = d.column;
    properties.endColumn = Math.max(d.endColumn, d.column);
  }
  return properties;
}
