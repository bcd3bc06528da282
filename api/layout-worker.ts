/**
 * The DAG layout, in a worker thread (api/plan-layout.ts starts it): elkjs's layered algorithm
 * over the plan's tasks and `needs`. Why a thread: elkjs is synchronous, and a 5,000-task plan
 * takes tens of seconds on two cores (bench/console/RESULTS.md); on the server's event loop that
 * would stall every request and the worker role's lease heartbeats.
 */
import elkModule from 'elkjs/lib/elk.bundled.js';
import type { ELK as ElkInstance, ELKConstructorArguments, ElkNode } from 'elkjs/lib/elk-api.js';
import { parentPort } from 'node:worker_threads';

// elkjs is CommonJS: Node's default import is its constructor, which its types under NodeNext
// describe as the module's namespace.
const ELK = elkModule as unknown as new (args?: ELKConstructorArguments) => ElkInstance;

export interface LayoutRequest {
  tasks: { id: string; needs: readonly string[] }[];
  nodeWidth: number;
  nodeHeight: number;
}

export interface LayoutAnswer {
  width: number;
  height: number;
  /** Top-left corner of each task's box, in plan order. */
  positions: { id: string; x: number; y: number }[];
}

/**
 * Options chosen for speed at thousands of nodes: straight polylines (the console draws its own
 * curves, so routed bend points would be thrown away), simple node placement, one sweep of
 * crossing minimisation. Layering stays network simplex: longest-path layering measured no
 * faster and stretched the graph.
 */
const OPTIONS = {
  'elk.algorithm': 'layered',
  'elk.direction': 'RIGHT',
  'elk.edgeRouting': 'POLYLINE',
  'elk.layered.nodePlacement.strategy': 'SIMPLE',
  'elk.layered.thoroughness': '1',
  'elk.spacing.nodeNode': '12',
  'elk.layered.spacing.nodeNodeBetweenLayers': '48',
};

export async function layOut(request: LayoutRequest): Promise<LayoutAnswer> {
  const elk = new ELK();
  const known = new Set(request.tasks.map((t) => t.id));
  const input: ElkNode = {
    id: 'plan',
    layoutOptions: OPTIONS,
    children: request.tasks.map((t) => ({ id: t.id, width: request.nodeWidth, height: request.nodeHeight })),
    edges: request.tasks.flatMap((t) =>
      t.needs
        .filter((n) => known.has(n))
        .map((n, i) => ({ id: `${t.id}\u0000${i}`, sources: [n], targets: [t.id] })),
    ),
  };
  const graph = await elk.layout(input);
  return {
    width: Math.ceil(graph.width ?? 0),
    height: Math.ceil(graph.height ?? 0),
    positions: (graph.children ?? []).map((c) => ({
      id: c.id,
      x: Math.round(c.x ?? 0),
      y: Math.round(c.y ?? 0),
    })),
  };
}

parentPort?.once('message', (request: LayoutRequest) => {
  layOut(request).then(
    (answer) => parentPort!.postMessage({ ok: true, answer }),
    (error: unknown) => parentPort!.postMessage({ ok: false, message: String(error) }),
  );
});
