/**
 * Draws the laid-out plan on a 2D canvas. Why canvas and not SVG or DOM: 5,000 boxes and 10,000
 * edges as elements cost the browser seconds to lay out and style and make every pan a restyle;
 * on a canvas a frame is a few batched paths. Level of detail: far out, boxes are bare rectangles
 * batched per state colour and edges straight lines; close in, labels and curves appear. Only
 * what is in view is drawn. State colours are a lookup at draw time, so a state change is a
 * redraw, never a layout.
 */
import type { ApiBody } from '../../core/index.ts';
import { groupState, type FanOut } from './fan-outs.ts';
import type { LiveStates } from './live-states.ts';

export interface View {
  scale: number;
  /** Canvas pixels (CSS) of the graph's origin. */
  tx: number;
  ty: number;
}

export const STATE_COLOURS: Record<string, string> = {
  succeeded: '#2e7d32',
  cached: '#558b2f',
  failed: '#c62828',
  timed_out: '#c62828',
  blocked_by_policy: '#6a1b9a',
  cancelled: '#8d6e63',
  skipped: '#bdbdbd',
  running: '#1565c0',
  ready: '#64b5f6',
  queued: '#9e9e9e',
  waiting_for_approval: '#f9a825',
  pending: '#e0e0e0',
};
const CRITICAL = '#ff6f00';
const EDGE = 'rgba(80, 80, 80, 0.45)';
const SELECTED = '#000000';

export interface Scene {
  graph: ApiBody.RunGraph;
  byId: ReadonlyMap<string, ApiBody.GraphNode>;
  states: ReadonlyMap<string, string>;
  /** The event stream's newer states, read first. */
  live?: LiveStates;
  /** Collapsed fan-outs by their box's id: the box shows its members' most urgent state. */
  groups?: ReadonlyMap<string, FanOut>;
  critical: ReadonlySet<string>;
  selected: string | null;
}

/** The view that shows the whole graph in a canvas of `width` x `height` CSS pixels. */
export function fitView(graph: ApiBody.RunGraph, width: number, height: number): View {
  const pad = 16;
  const scale = Math.min(
    1,
    (width - 2 * pad) / Math.max(1, graph.width),
    (height - 2 * pad) / Math.max(1, graph.height),
  );
  return { scale, tx: pad, ty: pad };
}

/** The node under a point of the canvas (CSS pixels), if any. */
export function nodeAt(scene: Scene, view: View, px: number, py: number): ApiBody.GraphNode | undefined {
  const x = (px - view.tx) / view.scale;
  const y = (py - view.ty) / view.scale;
  const { nodeWidth: w, nodeHeight: h } = scene.graph;
  return scene.graph.nodes.find((n) => x >= n.x && x <= n.x + w && y >= n.y && y <= n.y + h);
}

function edgePath(
  ctx: CanvasRenderingContext2D,
  a: ApiBody.GraphNode,
  b: ApiBody.GraphNode,
  w: number,
  h: number,
  curved: boolean,
) {
  const x1 = a.x + w;
  const y1 = a.y + h / 2;
  const x2 = b.x;
  const y2 = b.y + h / 2;
  ctx.moveTo(x1, y1);
  if (curved) {
    const mid = (x1 + x2) / 2;
    ctx.bezierCurveTo(mid, y1, mid, y2, x2, y2);
  } else ctx.lineTo(x2, y2);
}

export function draw(
  ctx: CanvasRenderingContext2D,
  scene: Scene,
  view: View,
  width: number,
  height: number,
): number {
  const { graph, byId, critical } = scene;
  const taskState = (id: string) => scene.live?.stateOf(id) ?? scene.states.get(id) ?? 'pending';
  const stateOf = (id: string) => {
    const group = scene.groups?.get(id);
    return group ? groupState(group.members.map(taskState)) : taskState(id);
  };
  const w = graph.nodeWidth;
  const h = graph.nodeHeight;
  const detailed = view.scale * h >= 14;
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.scale(globalThis.devicePixelRatio || 1, globalThis.devicePixelRatio || 1);
  ctx.clearRect(0, 0, width, height);
  ctx.translate(view.tx, view.ty);
  ctx.scale(view.scale, view.scale);
  // The part of the graph in view, in graph coordinates, with a node's size of margin.
  const left = -view.tx / view.scale - w;
  const top = -view.ty / view.scale - h;
  const right = (width - view.tx) / view.scale;
  const bottom = (height - view.ty) / view.scale;
  const inView = (n: ApiBody.GraphNode) => n.x >= left && n.x <= right && n.y >= top && n.y <= bottom;
  const visible = graph.nodes.filter(inView);
  // Edges: one batched path for all, one for the critical path's.
  ctx.lineWidth = 1 / Math.max(view.scale, 0.25);
  ctx.strokeStyle = EDGE;
  ctx.beginPath();
  const criticalEdges: [ApiBody.GraphNode, ApiBody.GraphNode][] = [];
  for (const node of graph.nodes) {
    for (const need of node.needs) {
      const from = byId.get(need);
      if (!from || (!inView(node) && !inView(from))) continue;
      if (critical.has(node.id) && critical.has(need)) criticalEdges.push([from, node]);
      else edgePath(ctx, from, node, w, h, detailed);
    }
  }
  ctx.stroke();
  ctx.strokeStyle = CRITICAL;
  ctx.lineWidth = 3 / Math.max(view.scale, 0.25);
  ctx.beginPath();
  for (const [from, node] of criticalEdges) edgePath(ctx, from, node, w, h, detailed);
  ctx.stroke();
  // Boxes: one fill per state colour.
  const byColour = new Map<string, ApiBody.GraphNode[]>();
  for (const node of visible) {
    const colour = STATE_COLOURS[stateOf(node.id)] ?? STATE_COLOURS.pending!;
    (byColour.get(colour) ?? byColour.set(colour, []).get(colour)!).push(node);
  }
  for (const [colour, nodes] of byColour) {
    ctx.fillStyle = colour;
    ctx.beginPath();
    for (const n of nodes) ctx.rect(n.x, n.y, w, h);
    ctx.fill();
  }
  ctx.strokeStyle = CRITICAL;
  ctx.beginPath();
  for (const n of visible) if (critical.has(n.id)) ctx.rect(n.x - 2, n.y - 2, w + 4, h + 4);
  ctx.stroke();
  const selected = scene.selected ? byId.get(scene.selected) : undefined;
  if (selected) {
    ctx.strokeStyle = SELECTED;
    ctx.lineWidth = 3 / Math.max(view.scale, 0.25);
    ctx.strokeRect(selected.x - 4, selected.y - 4, w + 8, h + 8);
  }
  if (detailed) {
    ctx.fillStyle = '#ffffff';
    ctx.font = '13px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (const n of visible) {
      const state = stateOf(n.id);
      ctx.fillStyle =
        state === 'pending' || state === 'skipped' || state === 'waiting_for_approval'
          ? '#212121'
          : '#ffffff';
      const group = scene.groups?.get(n.id);
      const label = group ? `${n.id} ×${group.members.length}` : n.id;
      ctx.fillText(label.length > 22 ? `${label.slice(0, 21)}…` : label, n.x + 6, n.y + h / 2, w - 12);
    }
  }
  return visible.length;
}
