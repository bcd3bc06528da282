import type { Plan } from '../../core/index.ts';
import { hasErrors } from '../../core/index.ts';
import type { CompiledManifest } from '../source/compile-snapshot.ts';
import { toAnnotation, type CheckAnnotation } from './check-runs.ts';

export const VALIDATE_CHECK_NAME = 'maestro / validate';

export interface ValidateView {
  conclusion: 'success' | 'failure' | 'neutral';
  title: string;
  summary: string;
  annotations: CheckAnnotation[];
}

/** A mermaid flowchart of the plan's DAG (node ids are indexes: task ids may hold any character). */
export function renderMermaid(plan: Plan): string {
  const index = new Map(plan.tasks.map((task, i) => [task.id, `t${i}`]));
  const lines = ['flowchart LR'];
  plan.tasks.forEach((task, i) => lines.push(`  t${i}["${task.id.replaceAll('"', '#quot;')}"]`));
  for (const edge of plan.edges) lines.push(`  ${index.get(edge.from)} --> ${index.get(edge.to)}`);
  return lines.join('\n');
}

/** The validate check run: one annotation per diagnostic, and per workflow its digest and DAG. */
export function renderValidate(compiled: readonly CompiledManifest[]): ValidateView {
  const annotations = compiled.flatMap((entry) => entry.diagnostics.map((d) => toAnnotation(d, entry.file)));
  const failing = compiled.filter((entry) => hasErrors(entry.diagnostics));
  if (compiled.length === 0)
    return {
      conclusion: 'neutral',
      title: 'No manifests',
      summary: 'No files under `.maestro/workflows/` or `.maestro/runbooks/` at this commit.',
      annotations,
    };
  const title =
    failing.length === 0
      ? `${compiled.length} manifest(s) valid`
      : `${failing.length} of ${compiled.length} manifest(s) invalid (${annotations.length} diagnostic(s))`;
  const sections = compiled.map((entry) => {
    if (!entry.plan)
      return `### ❌ \`${entry.file}\`\n\n${entry.diagnostics.length} diagnostic(s); see the annotations.`;
    const plan = entry.plan;
    const gate = plan.approvals
      ? `\n- approvals: ${plan.approvals.required} from ${plan.approvals.from.join(', ') || 'any writer'}`
      : '';
    return [
      `### ✅ ${plan.workflow.namespace}/${plan.workflow.name} (\`${entry.file}\`)`,
      '',
      `- plan digest: \`${plan.digest}\``,
      `- tasks: ${plan.tasks.length}${gate}`,
      '',
      '```mermaid',
      renderMermaid(plan),
      '```',
    ].join('\n');
  });
  return {
    conclusion: failing.length === 0 ? 'success' : 'failure',
    title,
    summary: sections.join('\n\n'),
    annotations,
  };
}
