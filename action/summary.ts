import type { ManifestReport } from '../workspace/index.ts';
import { countDiagnostics } from '../workspace/index.ts';
import { cell, inline } from './markdown.ts';

/**
 * The job summary as Markdown: a table of manifests (valid or not, plan digest, task count), then
 * for each valid workflow its DAG as a ```mermaid block, which GitHub renders as a diagram, and
 * for each invalid one the list of its diagnostics.
 */
export function summaryMarkdown(
  reports: readonly ManifestReport[],
  drawGraph: (report: ManifestReport) => string | undefined,
  /** A line on what the local runner's tasks run in on this job (see run-action.ts). */
  sandboxNote?: string,
): string {
  const c = countDiagnostics(reports);
  const out = [
    '## Maestro: validate',
    '',
    c.invalid === 0
      ? `All ${c.files} manifest${c.files === 1 ? '' : 's'} valid (${c.warnings} warning${c.warnings === 1 ? '' : 's'}).`
      : `${c.invalid} of ${c.files} manifest${c.files === 1 ? '' : 's'} invalid: ${c.errors} error${c.errors === 1 ? '' : 's'}, ${c.warnings} warning${c.warnings === 1 ? '' : 's'}.`,
    '',
    '| manifest | workflow | result | tasks | plan digest |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const r of reports) {
    const name = r.plan
      ? `${r.plan.workflow.kind} ${r.plan.workflow.namespace}/${r.plan.workflow.name}`
      : (r.name ?? '');
    const result = r.valid
      ? r.diagnostics.length > 0
        ? '⚠️ valid with warnings'
        : '✅ valid'
      : '❌ invalid';
    const digest = r.plan ? `\`${r.plan.digest}\`` : '';
    out.push(
      `| \`${r.file.replace(/\|/g, '\\|')}\` | ${cell(name)} | ${result} | ${r.plan?.tasks.length ?? ''} | ${digest} |`,
    );
  }
  for (const r of reports) {
    out.push('', `### \`${r.file}\``, '');
    if (r.plan) {
      out.push(`Plan digest: \`${r.plan.digest}\``, '');
      const graph = drawGraph(r);
      if (graph) out.push('```mermaid', graph.trimEnd(), '```');
    }
    for (const d of r.diagnostics)
      out.push(
        `- **${d.severity}** \`${d.code}\` line ${d.line}, column ${d.column}: ${inline(d.message)}${d.hint ? ` _(hint: ${inline(d.hint)})_` : ''}`,
      );
  }
  if (sandboxNote) out.push('', '### Sandbox', '', sandboxNote);
  return out.join('\n') + '\n';
}
