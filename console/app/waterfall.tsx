/**
 * The critical path as a waterfall on the run page: each task of the path with when it started
 * (from the run's start) and how long it took, as a bar. Finished tasks by their latest
 * attempt's times; the others by the estimate from the workflow's history (GET …/graph's
 * `estimateMs`, the median of the last finished runs), starting when the task before them on
 * the path ends. A table, so a screen reader reads the same figures the bars draw.
 */
import type { ApiBody } from '../../core/index.ts';
import { taskDurationMs, type CriticalPath } from './critical-path.ts';

export interface WaterfallRow {
  task: string;
  startMs: number;
  durationMs: number;
  estimated: boolean;
  state: string;
}

export function waterfallRows(
  path: CriticalPath,
  graph: ApiBody.RunGraph,
  tasks: ReadonlyMap<string, ApiBody.Task>,
  runStart: number,
  now = Date.now(),
): WaterfallRow[] {
  const nodes = new Map(graph.nodes.map((n) => [n.id, n]));
  const rows: WaterfallRow[] = [];
  let end = 0;
  for (const id of path.tasks) {
    const task = tasks.get(id);
    const last = task?.attempts.at(-1);
    const startMs = last ? Math.max(0, Date.parse(last.startedAt) - runStart) : end;
    const durationMs = taskDurationMs(nodes.get(id)!, task, now);
    end = startMs + durationMs;
    rows.push({
      task: id,
      startMs,
      durationMs,
      estimated: !last?.finishedAt,
      state: task?.state ?? 'pending',
    });
  }
  return rows;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

export function Waterfall(props: { rows: WaterfallRow[] }) {
  const total = Math.max(1, ...props.rows.map((r) => r.startMs + r.durationMs));
  if (!props.rows.length) return null;
  return (
    <table class="waterfall" data-testid="waterfall">
      <caption>Critical path as a waterfall ({seconds(total)} end to end)</caption>
      <thead>
        <tr>
          {['Task', 'Starts at', 'Duration', 'Timeline'].map((h) => (
            <th scope="col">{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {props.rows.map((r) => (
          <tr key={r.task} data-waterfall-task={r.task}>
            <th scope="row">{r.task}</th>
            <td>+{seconds(r.startMs)}</td>
            <td>
              {seconds(r.durationMs)}
              {r.estimated ? ' (estimated from history)' : ''}
            </td>
            <td class="waterfall-lane" aria-hidden="true">
              <div
                class={`waterfall-bar ${r.state}${r.estimated ? ' estimated' : ''}`}
                style={{
                  marginLeft: `${(100 * r.startMs) / total}%`,
                  width: `${Math.max(0.5, (100 * r.durationMs) / total)}%`,
                }}
              />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
