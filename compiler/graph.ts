import type { Plan } from '../core/index.ts';

/**
 * Draws a plan's DAG. Node names are generated (`t0`, `t1`, ...) and labels escaped, so task ids
 * (which may hold `[`, `=`, `,` from matrix expansion) can never break the diagram syntax.
 */
export function planToMermaid(plan: Plan): string {
  const name = new Map(plan.tasks.map((t, i) => [t.id, `t${i}`]));
  const lines = ['flowchart TD'];
  for (const task of plan.tasks) lines.push(`  ${name.get(task.id)}["${mermaidLabel(task.id)}"]`);
  for (const edge of plan.edges) lines.push(`  ${name.get(edge.from)} --> ${name.get(edge.to)}`);
  return `${lines.join('\n')}\n`;
}

export function planToDot(plan: Plan): string {
  const lines = [`digraph ${dotString(plan.workflow.name)} {`, '  rankdir=LR;', '  node [shape=box];'];
  for (const task of plan.tasks) lines.push(`  ${dotString(task.id)};`);
  for (const edge of plan.edges) lines.push(`  ${dotString(edge.from)} -> ${dotString(edge.to)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function mermaidLabel(text: string): string {
  // Mermaid entity codes: `#quot;` etc. keep quotes and brackets inert inside a label.
  return text.replace(/[#"<>]/g, (c) => `#${c.charCodeAt(0)};`);
}

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
