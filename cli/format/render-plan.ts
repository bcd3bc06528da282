import type { Plan, PlanAction } from '../../core/index.ts';

/** A person's view of a Plan: header, digest, tasks in topological order with needs, edges. */
export function renderPlanText(plan: Plan): string {
  const w = plan.workflow;
  const out = [
    `${w.kind} ${w.namespace}/${w.name}`,
    `digest ${plan.digest}`,
    '',
    `tasks (${plan.tasks.length}, topological order):`,
  ];
  plan.tasks.forEach((task, i) => {
    const needs = task.needs.length > 0 ? `  needs: ${task.needs.join(', ')}` : '';
    const when = task.when ? `  when: ${task.when}` : '';
    out.push(`  ${String(i + 1).padStart(3)}. ${task.id}  [${describeAction(task.action)}]${needs}${when}`);
  });
  out.push('', `edges (${plan.edges.length}):`);
  for (const edge of plan.edges) out.push(`  ${edge.from} -> ${edge.to}`);
  return out.join('\n') + '\n';
}

function describeAction(action: PlanAction): string {
  switch (action.type) {
    case 'shell':
      return 'run';
    case 'argv':
      return `run ${action.argv[0]}`;
    case 'catalog':
      return `uses ${action.name}@${action.version}`;
    case 'container':
      return `image ${action.image}`;
  }
}
