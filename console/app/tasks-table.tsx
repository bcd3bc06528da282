/**
 * The run's tasks as a table: the graph's accessible list (each task's id, state, reason,
 * attempts, duration, critical path, policy decisions and logs). Up to WINDOWED_FROM tasks every
 * row is in the document. A larger run is windowed: the table scrolls in a region of its own
 * and only the rows in view (and OVERSCAN either side) are rendered, spacer rows keeping the
 * scroll height, `aria-rowcount`/`aria-rowindex` telling a screen reader where it is, and
 * **Filter tasks** narrowing the rows by id or state, so any task is reachable from the
 * keyboard. Why windowed: one Preact row per task at 5,000 tasks was most of the run page's
 * first paint (bench/console/RESULTS.md), and every live reload re-rendered all of them.
 * Written by hand (about 40 lines) where a virtual-list library would bring its own layout model
 * for one table with rows of one height.
 */
import { useMemo, useState } from 'preact/hooks';
import type { ApiBody } from '../../core/index.ts';
import { duration } from './format.ts';

export const WINDOWED_FROM = 200;
/** Each windowed row's height in CSS pixels (app.css `.tasks-windowed tr`). */
const ROW_PX = 34;
const VIEW_ROWS = 16;
const OVERSCAN = 8;
const HEADINGS = [
  'Task',
  'State',
  'Reason',
  'Attempts',
  'Duration',
  'Critical path',
  'Policy decisions',
  'Logs',
];

export interface TasksProps {
  tasks: ApiBody.Task[];
  /** The run's policy decisions by task (GET /v1/runs/{id}/decisions), with their reasons. */
  decisions: ReadonlyMap<string, ApiBody.PolicyDecision[]>;
  critical: ReadonlySet<string>;
  onSelect: ((task: string) => void) | undefined;
  onLog: (task: string, attempt: number) => void;
}

export function Tasks(props: TasksProps) {
  if (props.tasks.length < WINDOWED_FROM)
    return (
      <table class="tasks">
        <caption>Tasks</caption>
        <Head />
        <tbody>
          {props.tasks.map((task, i) => (
            <Row key={task.id} task={task} index={i} {...props} />
          ))}
        </tbody>
      </table>
    );
  return <WindowedTasks {...props} />;
}

function Head() {
  return (
    <thead>
      <tr aria-rowindex={1}>
        {HEADINGS.map((h) => (
          <th scope="col">{h}</th>
        ))}
      </tr>
    </thead>
  );
}

function WindowedTasks(props: TasksProps) {
  const [filter, setFilter] = useState('');
  const [top, setTop] = useState(0);
  const shown = useMemo(() => {
    const f = filter.trim();
    return f ? props.tasks.filter((t) => t.id.includes(f) || t.state === f) : props.tasks;
  }, [props.tasks, filter]);
  const first = Math.max(0, Math.floor(top / ROW_PX) - OVERSCAN);
  const last = Math.min(shown.length, first + VIEW_ROWS + 2 * OVERSCAN);
  return (
    <section class="tasks-windowed" aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks</h2>
      <label>
        Filter tasks (id or state) <input value={filter} onInput={(e) => setFilter(e.currentTarget.value)} />
      </label>{' '}
      <span role="status">
        {shown.length} of {props.tasks.length} tasks
      </span>
      <div
        class="tasks-scroll"
        tabIndex={0}
        role="region"
        aria-label="Tasks, scrollable"
        style={{ height: `${(VIEW_ROWS + 1) * ROW_PX}px` }}
        onScroll={(e) => setTop(e.currentTarget.scrollTop)}
      >
        <table class="tasks" aria-rowcount={shown.length + 1} data-windowed="true">
          <Head />
          <tbody>
            {first > 0 && <Spacer rows={first} />}
            {shown.slice(first, last).map((task, i) => (
              <Row key={task.id} task={task} index={first + i} {...props} />
            ))}
            {last < shown.length && <Spacer rows={shown.length - last} />}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Spacer(props: { rows: number }) {
  return (
    <tr aria-hidden="true" class="spacer" style={{ height: `${props.rows * ROW_PX}px` }}>
      <td colSpan={HEADINGS.length} />
    </tr>
  );
}

/**
 * Each of the task's policy decisions: `allowed`, or `denied: <reasons>`; the attempts' decision
 * ids until the decisions are loaded.
 */
function Decisions(props: TasksProps & { task: ApiBody.Task }) {
  const loaded = props.decisions.get(props.task.id);
  if (!loaded)
    return (
      <>
        {props.task.attempts.flatMap((a) =>
          a.policyDecisionIds.map((d) => (
            <code class="decision" title={`attempt ${a.attempt}`}>
              {d.slice(0, 8)}
            </code>
          )),
        )}
      </>
    );
  return (
    <>
      {loaded.map((d) => (
        <span
          class={`decision ${d.allow ? 'allow' : 'deny'}`}
          title={`attempt ${d.attempt}, decision ${d.decisionId}`}
          data-decision={d.decisionId}
        >
          {d.allow ? 'allowed' : d.unavailable ? 'denied (policy unavailable)' : 'denied'}
          {d.reasons.length ? `: ${d.reasons.join('; ')}` : ''}
        </span>
      ))}
    </>
  );
}

function Row(props: TasksProps & { task: ApiBody.Task; index: number }) {
  const { task } = props;
  const last = task.attempts.at(-1);
  return (
    <tr data-task={task.id} aria-rowindex={props.index + 2}>
      <th scope="row">{task.id}</th>
      <td>
        <span class={`status ${task.state}`}>{task.state}</span>
      </td>
      <td>{task.reason}</td>
      <td>{task.attempts.length}</td>
      <td>{last ? duration(last.startedAt, last.finishedAt) : ''}</td>
      <td>{props.critical.has(task.id) ? 'on it' : ''}</td>
      <td>
        <Decisions {...props} />
      </td>
      <td>
        {task.attempts.map((a) => (
          <button type="button" class="link" onClick={() => props.onLog(task.id, a.attempt)}>
            Log of {task.id} attempt {a.attempt}
          </button>
        ))}
        {props.onSelect && (
          <button type="button" class="link" onClick={() => props.onSelect!(task.id)}>
            Show {task.id} in the graph
          </button>
        )}
      </td>
    </tr>
  );
}
