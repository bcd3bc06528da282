/**
 * Matrix fan-outs as one node: a plan's matrix expansions are `<declaredId>[k=v,...]`
 * (schemas/plan.schema.json), so the expansions of one declared task form a group. A collapsed
 * group is drawn as one box where its first expansion is, with the counts of its members'
 * states; edges to and from its members become edges of the box. Pure, and no layout: the
 * positions are the server's, a collapsed group only hides its members' boxes (so expanding it
 * puts them back where they were, and a state change never moves anything).
 */
import type { ApiBody } from '../../core/index.ts';

export interface FanOut {
  /** The declared task's id, the box's id while collapsed. */
  id: string;
  members: string[];
}

/** The declared id of a matrix expansion, or undefined for a plain task. */
export function declaredId(taskId: string): string | undefined {
  const at = taskId.indexOf('[');
  return at > 0 && taskId.endsWith(']') ? taskId.slice(0, at) : undefined;
}

/** Every fan-out of the plan with two or more expansions, by declared id. */
export function fanOutsOf(nodes: readonly ApiBody.GraphNode[]): Map<string, FanOut> {
  const groups = new Map<string, FanOut>();
  for (const n of nodes) {
    const id = declaredId(n.id);
    if (id === undefined) continue;
    const group = groups.get(id) ?? groups.set(id, { id, members: [] }).get(id)!;
    group.members.push(n.id);
  }
  for (const [id, g] of groups) if (g.members.length < 2) groups.delete(id);
  return groups;
}

/** The graph as drawn: each collapsed fan-out's members replaced by one node. */
export function collapsedGraph(
  graph: ApiBody.RunGraph,
  fanOuts: ReadonlyMap<string, FanOut>,
  collapsed: ReadonlySet<string>,
): ApiBody.RunGraph {
  if (!collapsed.size) return graph;
  const groupOf = new Map<string, string>();
  for (const id of collapsed) for (const m of fanOuts.get(id)?.members ?? []) groupOf.set(m, id);
  const shown = (id: string) => groupOf.get(id) ?? id;
  const nodes: ApiBody.GraphNode[] = [];
  const boxes = new Map<string, ApiBody.GraphNode>();
  for (const n of graph.nodes) {
    const group = groupOf.get(n.id);
    const needs = n.needs.map(shown).filter((need) => need !== (group ?? n.id));
    if (group === undefined) {
      nodes.push({ ...n, needs: [...new Set(needs)] });
      continue;
    }
    const box = boxes.get(group);
    if (box) box.needs = [...new Set([...box.needs, ...needs])];
    else {
      const first: ApiBody.GraphNode = { ...n, id: group, needs: [...new Set(needs)], estimateMs: null };
      boxes.set(group, first);
      nodes.push(first);
    }
  }
  return { ...graph, nodes };
}

/** Which state a collapsed box shows: the members' most urgent one. */
const URGENCY = [
  'failed',
  'timed_out',
  'blocked_by_policy',
  'running',
  'waiting_for_approval',
  'ready',
  'queued',
  'cancelled',
  'pending',
  'skipped',
  'cached',
  'succeeded',
];

export function groupState(states: readonly string[]): string {
  let best = URGENCY.length;
  for (const s of states) {
    const rank = URGENCY.indexOf(s);
    best = Math.min(best, rank < 0 ? URGENCY.indexOf('pending') : rank);
  }
  return URGENCY[best] ?? 'pending';
}

/** `build ×6: 4 succeeded, 1 failed, 1 running`, most frequent first. */
export function groupSummary(group: FanOut, states: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const s of states) counts.set(s, (counts.get(s) ?? 0) + 1);
  const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${n} ${s}`);
  return `${group.id} ×${group.members.length}: ${parts.join(', ')}`;
}
