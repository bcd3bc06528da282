/**
 * The run's critical path: the longest chain of `needs` by duration, with the actual duration
 * of each finished task (its latest attempt), the elapsed time or the estimate (whichever is
 * longer) of a running one, and the estimate from the workflow's history for the rest (0
 * without history, and for a skipped task). Pure: the DAG view recomputes it on every state
 * change (one pass in plan order, which is topological), never the layout.
 */
import type { ApiBody } from '../../core/index.ts';

export interface CriticalPath {
  /** The path's tasks, first to last. */
  tasks: string[];
  totalMs: number;
}

const NOT_RUN = new Set(['skipped', 'cached']);

export function taskDurationMs(node: ApiBody.GraphNode, task: ApiBody.Task | undefined, now: number): number {
  const last = task?.attempts.at(-1);
  if (task && NOT_RUN.has(task.state)) return 0;
  if (last?.finishedAt) return Date.parse(last.finishedAt) - Date.parse(last.startedAt);
  if (last) return Math.max(now - Date.parse(last.startedAt), node.estimateMs ?? 0);
  return node.estimateMs ?? 0;
}

export function criticalPath(
  nodes: readonly ApiBody.GraphNode[],
  tasks: ReadonlyMap<string, ApiBody.Task>,
  now = Date.now(),
): CriticalPath {
  const finish = new Map<string, number>();
  const previous = new Map<string, string>();
  let end: string | undefined;
  for (const node of nodes) {
    let start = 0;
    for (const need of node.needs) {
      const f = finish.get(need) ?? 0;
      if (f > start || (f === start && !previous.has(node.id) && finish.has(need))) {
        start = f;
        previous.set(node.id, need);
      }
    }
    const f = start + taskDurationMs(node, tasks.get(node.id), now);
    finish.set(node.id, f);
    if (end === undefined || f > finish.get(end)!) end = node.id;
  }
  const path: string[] = [];
  for (let at = end; at !== undefined; at = previous.get(at)) path.push(at);
  return { tasks: path.reverse(), totalMs: end === undefined ? 0 : finish.get(end)! };
}
