import { createHash } from 'node:crypto';
import type { Plan } from '../../core/index.ts';
import { hasErrors } from '../../core/index.ts';
import { plansByWorkflow, type CompiledManifest } from '../source/compile-snapshot.ts';
import { toAnnotation, type CheckAnnotation, type CheckRunAction } from './check-runs.ts';

export const VALIDATE_CHECK_NAME = 'maestro / validate';

export interface ValidateView {
  conclusion: 'success' | 'failure' | 'neutral';
  title: string;
  summary: string;
  annotations: CheckAnnotation[];
  /** "Run <workflow>" buttons (the default branch's head only). */
  actions?: CheckRunAction[];
}

/** GitHub allows three actions per check run: label ≤ 20, description ≤ 40, identifier ≤ 20 characters. */
const MAX_ACTIONS = 3;
const RUN_ACTION_PREFIX = 'run:';

/** The button's identifier for a workflow: `run:` and 16 hex of the workflow key's sha256 (20 characters). */
export function manualRunIdentifier(workflow: string): string {
  return `${RUN_ACTION_PREFIX}${createHash('sha256').update(workflow).digest('hex').slice(0, 16)}`;
}

export function isManualRunIdentifier(identifier: string): boolean {
  return identifier.startsWith(RUN_ACTION_PREFIX);
}

/** Workflows that may be started by hand (`triggers.manual: true`, or no triggers at all). */
export function manualWorkflows(compiled: readonly CompiledManifest[]): [string, Plan][] {
  return [...plansByWorkflow(compiled)]
    .filter(([, { plan }]) => plan.triggers.manual === true)
    .map(([workflow, { plan }]) => [workflow, plan]);
}

/** Up to three "Run <workflow>" actions, in workflow-key order (the rest: `/maestro run <workflow>`). */
export function manualRunActions(compiled: readonly CompiledManifest[]): CheckRunAction[] {
  const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
  return manualWorkflows(compiled)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, MAX_ACTIONS)
    .map(([workflow, plan]) => ({
      label: clip(`Run ${plan.workflow.name}`, 20),
      description: clip(`Run ${workflow} at this commit`, 40),
      identifier: manualRunIdentifier(workflow),
    }));
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
