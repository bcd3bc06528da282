/**
 * Where a frame of the DAG view goes at 5,000 tasks: `draw()` of console/app/dag-draw.ts in
 * headless Chromium on the bench's 50 × 100 layered graph (9,800 edges), every box in view (the
 * fitted view, the worst case), each frame flushed (`getImageData` forces its raster) so the time
 * is drawing plus rasterising, not just recording. Variants: the whole frame, and the same frame
 * without edges, so the edges' share is measured rather than guessed. A grid layout stands in for
 * elkjs's (the same node size, a column per layer): what costs is the number of shapes in view.
 * `node bench/console/draw-profile.ts [frames]`; medians of 5 rounds.
 */
import { join } from 'node:path';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const ROOT = join(import.meta.dirname, '..', '..');
const frames = Number(process.argv[2] ?? 200);

const PAGE = `
import { draw, fitView } from './console/app/dag-draw.ts';
import { layeredGraph } from './bench/run/graph.ts';
// api/plan-layout.ts's NODE_WIDTH and NODE_HEIGHT (that module starts a worker thread: not imported).
const W = 180;
const H = 32;
const tasks = layeredGraph(50, 100);
const nodes = tasks.map((t) => {
  const [l, i] = t.id.slice(1).split('_').map(Number);
  return { id: t.id, needs: t.needs, x: l * (W + 60), y: i * (H + 20), estimateMs: null };
});
const graph = { planDigest: 'x', nodeWidth: W, nodeHeight: H, width: 50 * (W + 60), height: 100 * (H + 20), nodes };
const bare = { ...graph, nodes: nodes.map((n) => ({ ...n, needs: [] })) };
const states = new Map(nodes.map((n, k) => [n.id, ['pending', 'succeeded', 'running', 'failed'][k % 4]]));
const canvas = document.createElement('canvas');
canvas.width = 1280;
canvas.height = 420;
document.body.append(canvas);
const ctx = canvas.getContext('2d');
globalThis.profile = (variant, frames) => {
  const g = variant === 'boxes only' ? bare : graph;
  const scene = { graph: g, byId: new Map(g.nodes.map((n) => [n.id, n])), states, critical: new Set(), selected: null };
  let view = fitView(graph, 1280, 420);
  let recording = 0;
  const start = performance.now();
  for (let f = 0; f < frames; f++) {
    view = { ...view, tx: view.tx + (f % 2 ? 1 : -1) }; // a pan, as the bench's frames
    const t = performance.now();
    draw(ctx, scene, view, 1280, 420);
    recording += performance.now() - t;
    ctx.getImageData(0, 0, 1, 1);
  }
  return { frameMs: (performance.now() - start) / frames, recordingMs: recording / frames };
};
`;

const bundle = await build({
  stdin: { contents: PAGE, resolveDir: ROOT, loader: 'ts' },
  bundle: true,
  format: 'iife',
  write: false,
  logLevel: 'warning',
});
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.setContent('<!doctype html><html><body></body></html>');
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  for (const variant of ['whole frame', 'boxes only']) {
    const rounds: { frameMs: number; recordingMs: number }[] = [];
    for (let r = 0; r < 5; r++)
      rounds.push(
        await page.evaluate(
          ([v, n]) =>
            (
              globalThis as unknown as {
                profile(v: string, n: number): { frameMs: number; recordingMs: number };
              }
            ).profile(v as string, n as number),
          [variant, frames] as const,
        ),
      );
    console.log(
      `${variant.padEnd(12)} frame ${median(rounds.map((x) => x.frameMs)).toFixed(1)} ms, of which draw() recording ${median(rounds.map((x) => x.recordingMs)).toFixed(1)} ms`,
    );
  }
} finally {
  await browser.close();
}
