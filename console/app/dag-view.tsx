/**
 * The run's DAG: the plan laid out by the server (GET /v1/runs/{id}/graph, once per plan
 * digest: the layout never changes while the run does), drawn on a canvas (dag-draw.ts) with the
 * tasks' live states, every task drawn from the start (pending ones too), the critical path
 * highlighted, zoom (wheel, + and -) and pan (drag, arrow keys), search by task id, and a click
 * on a box selecting its task: its state, durations, logs and, for a failed task, **Retry this
 * task**. The canvas is one picture to a screen reader: the Tasks table below lists every task
 * with its state, duration and whether it is on the critical path.
 */
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { ApiBody } from '../../core/index.ts';
import { call } from './api.ts';
import { criticalPath, type CriticalPath } from './critical-path.ts';
import { draw, fitView, nodeAt, type Scene, type View } from './dag-draw.ts';
import { collapsedGraph, fanOutsOf, groupSummary, type FanOut } from './fan-outs.ts';
import { duration } from './format.ts';
import type { LiveStates } from './live-states.ts';

const HEIGHT = 420;
const RETRYABLE_TASK = ['failed', 'timed_out', 'cancelled', 'blocked_by_policy'];

export function useCriticalPath(graph: ApiBody.RunGraph | null, tasks: ApiBody.Task[]): CriticalPath {
  return useMemo(
    () =>
      graph ? criticalPath(graph.nodes, new Map(tasks.map((t) => [t.id, t]))) : { tasks: [], totalMs: 0 },
    [graph, tasks],
  );
}

/** The run's plan's graph, fetched once (a run's plan never changes; a state change does not fetch it). */
export function useRunGraph(runId: string, onProblem: (e: unknown) => void) {
  const [graph, setGraph] = useState<ApiBody.RunGraph | null>(null);
  useEffect(() => {
    let live = true;
    call<ApiBody.RunGraph>('GET', `/v1/runs/${encodeURIComponent(runId)}/graph`).then(
      (g) => live && setGraph(g),
      onProblem,
    );
    return () => void (live = false);
  }, [runId]);
  return graph;
}

export interface DagViewProps {
  graph: ApiBody.RunGraph;
  tasks: ApiBody.Task[];
  /** States from the event stream, newer than `tasks` until the next reload. */
  live: LiveStates;
  critical: CriticalPath;
  selected: string | null;
  onSelect: (task: string | null) => void;
  canRetry: boolean;
  onRetryTask: (task: string) => void;
  onLog: (task: string, attempt: number) => void;
}

export function DagView(props: DagViewProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const view = useRef<View | null>(null);
  const frame = useRef(0);
  const draws = useRef(0);
  const drag = useRef<{ x: number; y: number; moved: boolean } | null>(null);
  const [search, setSearch] = useState('');
  const { graph } = props;
  const byId = useMemo(() => new Map(graph.nodes.map((n) => [n.id, n])), [graph]);
  // Matrix fan-outs start collapsed into one box each; a click on one expands it.
  const fanOuts = useMemo(() => fanOutsOf(graph.nodes), [graph]);
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => new Set(fanOuts.keys()));
  const shown = useMemo(() => collapsedGraph(graph, fanOuts, collapsed), [graph, fanOuts, collapsed]);
  const shownById = useMemo(() => new Map(shown.nodes.map((n) => [n.id, n])), [shown]);
  const groups = useMemo(
    () => new Map([...collapsed].map((id): [string, FanOut] => [id, fanOuts.get(id)!])),
    [fanOuts, collapsed],
  );
  const groupOf = (task: string) => [...groups.values()].find((g) => g.members.includes(task))?.id;
  const scene = useRef<Scene | null>(null);
  const states = new Map(props.tasks.map((t) => [t.id, t.state]));
  const critical = new Set(props.critical.tasks);
  for (const g of groups.values()) if (g.members.some((m) => critical.has(m))) critical.add(g.id);
  scene.current = {
    graph: shown,
    byId: shownById,
    states,
    live: props.live,
    groups,
    critical,
    selected: props.selected,
  };
  const expand = (id: string) => {
    const next = new Set(collapsed);
    next.delete(id);
    setCollapsed(next);
  };
  const repaint = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      const c = canvas.current;
      if (!c || !scene.current) return;
      const width = c.clientWidth;
      if (c.width !== Math.round(width * devicePixelRatio)) {
        c.width = Math.round(width * devicePixelRatio);
        c.height = Math.round(HEIGHT * devicePixelRatio);
      }
      view.current ??= fitView(graph, width, HEIGHT);
      const drawn = draw(c.getContext('2d')!, scene.current, view.current, width, HEIGHT);
      const v = view.current;
      draws.current += 1;
      // Read back by the tests and bench/console: what is in view, frames drawn, events shown.
      c.dataset.view = `${v.scale},${v.tx},${v.ty}`;
      c.dataset.drawn = String(drawn);
      c.dataset.draws = String(draws.current);
      c.dataset.updates = String(props.live.applied);
      if (!c.dataset.painted) {
        c.dataset.painted = 'true';
        performance.mark('dag-first-paint');
      }
    });
  };
  useEffect(repaint); // every render: states, selection or critical path changed
  useEffect(() => {
    props.live.listen(repaint); // an event recolours in the next frame, without a render
    return () => {
      props.live.listen(undefined);
      cancelAnimationFrame(frame.current);
    };
  }, [props.live]);

  const zoom = (factor: number, cx: number, cy: number) => {
    const v = view.current;
    if (!v) return;
    const scale = Math.min(4, Math.max(0.02, v.scale * factor));
    view.current = {
      scale,
      tx: cx - ((cx - v.tx) * scale) / v.scale,
      ty: cy - ((cy - v.ty) * scale) / v.scale,
    };
    repaint();
  };
  const pan = (dx: number, dy: number) => {
    if (!view.current) return;
    view.current = { ...view.current, tx: view.current.tx + dx, ty: view.current.ty + dy };
    repaint();
  };
  // The task this view selected itself (a click, a search): anything else selected it from
  // outside (the Tasks table's "Show … in the graph"), and the view must then reveal it too.
  const selectedHere = useRef<string | null>(null);
  const select = (id: string | null) => {
    selectedHere.current = id;
    props.onSelect(id);
  };
  /** Expands the task's collapsed fan-out (its box is where the layout put it) and centres it. */
  const reveal = (id: string) => {
    const node = byId.get(id);
    const c = canvas.current;
    if (!node || !c) return;
    const group = groupOf(id);
    if (group) expand(group);
    view.current ??= fitView(graph, c.clientWidth, HEIGHT);
    const scale = Math.max(view.current.scale, 0.8);
    view.current = {
      scale,
      tx: c.clientWidth / 2 - (node.x + graph.nodeWidth / 2) * scale,
      ty: HEIGHT / 2 - (node.y + graph.nodeHeight / 2) * scale,
    };
    repaint();
  };
  const centre = (id: string) => {
    reveal(id);
    select(id);
  };
  useEffect(() => {
    const id = props.selected;
    if (id === null || id === selectedHere.current) return;
    selectedHere.current = id;
    reveal(id);
    canvas.current?.scrollIntoView({ block: 'nearest' });
  }, [props.selected]);
  const point = (e: PointerEvent | WheelEvent) => {
    const r = canvas.current!.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top] as const;
  };
  const selected = props.selected ? props.tasks.find((t) => t.id === props.selected) : undefined;
  const selectedNode = props.selected ? byId.get(props.selected) : undefined;
  return (
    <section class="dag" aria-labelledby="dag-title">
      <h2 id="dag-title">Graph</h2>
      <form
        class="dag-tools"
        onSubmit={(e) => {
          e.preventDefault();
          const wanted = search.trim();
          const hit = byId.has(wanted) ? wanted : graph.nodes.find((n) => n.id.includes(wanted))?.id;
          if (hit) centre(hit);
        }}
      >
        <label>
          Find task <input value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <button type="submit">Find</button>
        <button type="button" onClick={() => zoom(1.25, 400, HEIGHT / 2)}>
          Zoom in
        </button>
        <button type="button" onClick={() => zoom(0.8, 400, HEIGHT / 2)}>
          Zoom out
        </button>
        <button
          type="button"
          onClick={() => {
            view.current = null;
            repaint();
          }}
        >
          Fit
        </button>
        {fanOuts.size > 0 && (
          <button
            type="button"
            onClick={() => setCollapsed(collapsed.size ? new Set() : new Set(fanOuts.keys()))}
          >
            {collapsed.size ? 'Expand fan-outs' : 'Collapse fan-outs'}
          </button>
        )}
        <span class="dag-legend">
          {graph.nodes.length} tasks
          {collapsed.size
            ? `, ${collapsed.size} matrix fan-out(s) drawn as one box (click one to expand)`
            : ''}
          ; critical path ({props.critical.tasks.length} tasks,{' '}
          {duration(new Date(0).toISOString(), new Date(props.critical.totalMs).toISOString())}) outlined in
          orange
        </span>
      </form>
      <canvas
        ref={canvas}
        class="dag-canvas"
        data-testid="dag"
        data-nodes={graph.nodes.length}
        data-shown={shown.nodes.length}
        data-plan={graph.planDigest}
        tabIndex={0}
        role="img"
        aria-label={`Graph of ${graph.nodes.length} tasks. The Tasks table lists each task, its state and whether it is on the critical path. Arrow keys pan, plus and minus zoom.`}
        aria-describedby={collapsed.size ? 'dag-fan-outs' : undefined}
        onWheel={(e) => {
          e.preventDefault();
          const [x, y] = point(e);
          zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, x, y);
        }}
        onPointerDown={(e) => {
          drag.current = { x: e.clientX, y: e.clientY, moved: false };
          canvas.current?.setPointerCapture(e.pointerId);
        }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (!d) return;
          if (Math.abs(e.clientX - d.x) + Math.abs(e.clientY - d.y) > 3) d.moved = true;
          if (d.moved) {
            pan(e.clientX - d.x, e.clientY - d.y);
            drag.current = { x: e.clientX, y: e.clientY, moved: true };
          }
        }}
        onPointerUp={(e) => {
          const d = drag.current;
          drag.current = null;
          if (d?.moved || !scene.current || !view.current) return;
          const [x, y] = point(e);
          const hit = nodeAt(scene.current, view.current, x, y)?.id ?? null;
          if (hit !== null && groups.has(hit)) expand(hit);
          else select(hit);
        }}
        onKeyDown={(e) => {
          const step = 60;
          const keys: Record<string, () => void> = {
            ArrowLeft: () => pan(step, 0),
            ArrowRight: () => pan(-step, 0),
            ArrowUp: () => pan(0, step),
            ArrowDown: () => pan(0, -step),
            '+': () => zoom(1.25, 400, HEIGHT / 2),
            '-': () => zoom(0.8, 400, HEIGHT / 2),
          };
          const act = keys[e.key];
          if (act) {
            e.preventDefault();
            act();
          }
        }}
      />
      {collapsed.size > 0 && (
        <ul id="dag-fan-outs" class="dag-fan-outs" aria-label="Collapsed matrix fan-outs">
          {[...groups.values()].map((g) => (
            <li key={g.id} data-fan-out={g.id}>
              {groupSummary(
                g,
                g.members.map((m) => states.get(m) ?? 'pending'),
              )}{' '}
              <button type="button" class="link" onClick={() => expand(g.id)}>
                Expand {g.id}
              </button>
            </li>
          ))}
        </ul>
      )}
      {selectedNode && (
        <div class="dag-selected" data-testid="dag-selected" aria-live="polite">
          <h3>
            Task <code>{selectedNode.id}</code>
          </h3>
          <p>
            <span class={`status ${selected?.state ?? 'pending'}`}>{selected?.state ?? 'pending'}</span>
            {selected?.reason ? ` (${selected.reason})` : ''}; {selected?.attempts.length ?? 0} attempt(s)
            {selectedNode.estimateMs !== null ? `; usually ${Math.round(selectedNode.estimateMs)} ms` : ''}
            {selectedNode.needs.length ? `; needs ${selectedNode.needs.join(', ')}` : ''}
          </p>
          {selected?.attempts.map((a) => (
            <button type="button" class="link" onClick={() => props.onLog(selectedNode.id, a.attempt)}>
              Log of {selectedNode.id} attempt {a.attempt} ({duration(a.startedAt, a.finishedAt)})
            </button>
          ))}
          {props.canRetry && selected && RETRYABLE_TASK.includes(selected.state) && (
            <button type="button" onClick={() => props.onRetryTask(selectedNode.id)}>
              Retry task {selectedNode.id}
            </button>
          )}
          <button type="button" onClick={() => select(null)}>
            Close
          </button>
        </div>
      )}
    </section>
  );
}
