/**
 * The peer, in the same Chromium: the same graph laid out with dagre (the layout most pipeline
 * UIs use, Kubeflow Pipelines among them) and drawn as SVG, one <rect> and <text> per task and
 * one <path> per edge, as those UIs do. Runs in a blank page; the time is until the frame after
 * the SVG is in the document (its first paint).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import type { BenchTask } from '../run/graph.ts';

// The browser build beside the package's main file (its exports name only the module builds).
const DAGRE = join(dirname(createRequire(import.meta.url).resolve('@dagrejs/dagre')), 'dagre.js');

export interface PeerTiming {
  layoutMs: number;
  paintMs: number;
}

export async function dagreSvgFirstPaint(page: Page, tasks: BenchTask[]): Promise<PeerTiming> {
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ path: DAGRE });
  return page.evaluate(async (graph) => {
    type Dagre = {
      graphlib: { Graph: new () => DagreGraph };
      layout(g: DagreGraph): void;
    };
    type DagreGraph = {
      setGraph(o: object): void;
      setDefaultEdgeLabel(f: () => object): void;
      setNode(id: string, o: object): void;
      setEdge(a: string, b: string): void;
      node(id: string): { x: number; y: number };
      graph(): { width: number; height: number };
    };
    // In the page, typed here without the DOM library.
    type El = { setAttribute(k: string, v: string): void; appendChild(e: El): void; textContent: string };
    const { dagre, document, requestAnimationFrame } = globalThis as unknown as {
      dagre: Dagre;
      document: { createElementNS(ns: string, tag: string): El; body: El };
      requestAnimationFrame(f: () => void): void;
    };
    const start = performance.now();
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR' });
    g.setDefaultEdgeLabel(() => ({}));
    for (const t of graph) g.setNode(t.id, { width: 180, height: 32 });
    for (const t of graph) for (const n of t.needs) g.setEdge(n, t.id);
    dagre.layout(g);
    const laidOut = performance.now();
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('width', String(g.graph().width));
    svg.setAttribute('height', String(g.graph().height));
    for (const t of graph) {
      const at = g.node(t.id);
      for (const n of t.needs) {
        const from = g.node(n);
        const path = document.createElementNS(ns, 'path');
        path.setAttribute(
          'd',
          `M${from.x + 90},${from.y} C${(from.x + at.x) / 2},${from.y} ${(from.x + at.x) / 2},${at.y} ${at.x - 90},${at.y}`,
        );
        path.setAttribute('stroke', '#888');
        path.setAttribute('fill', 'none');
        svg.appendChild(path);
      }
      const rect = document.createElementNS(ns, 'rect');
      rect.setAttribute('x', String(at.x - 90));
      rect.setAttribute('y', String(at.y - 16));
      rect.setAttribute('width', '180');
      rect.setAttribute('height', '32');
      rect.setAttribute('fill', '#9e9e9e');
      svg.appendChild(rect);
      const text = document.createElementNS(ns, 'text');
      text.setAttribute('x', String(at.x - 84));
      text.setAttribute('y', String(at.y + 4));
      text.textContent = t.id;
      svg.appendChild(text);
    }
    document.body.appendChild(svg);
    await new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));
    return { layoutMs: laidOut - start, paintMs: performance.now() - start };
  }, tasks);
}
