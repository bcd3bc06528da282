/**
 * bench/console: the DAG view at 500, 2,000 and 5,000 tasks (each task needing two of the
 * previous layer: ~2 edges a task, 9,900 at 5,000), in headless Chromium against the real
 * server (the console harness of test/console). Measured:
 *  - first paint: navigation to /runs/<id> until the DAG's canvas is first drawn
 *    (performance.mark 'dag-first-paint'), with the plan's layout already cached (it was laid
 *    out when the workflow was stored); the run waits for approval, so every task is a future
 *    task, drawn before it starts. Median of FIRST_PAINT_RUNS fresh pages. Target <= 1.5 s.
 *  - cold layout: elkjs on its own (api/plan-layout.ts's worker thread, no cache), median of
 *    COLD_RUNS (one at 5,000: it takes tens of seconds).
 *  - the page while the layout is cold (opened right after the run was created): when its tasks
 *    table shows (the cold layout must not hold the page up) and when the graph follows.
 *  - frames per second while panning and zooming for FPS_MS (target >= 50), and 1,000 state
 *    updates a second for UPDATE_SECONDS (none dropped, no layout re-run): interaction.ts.
 *    Median of INTERACTION_RUNS each.
 *  - the peer in the same Chromium: dagre's layout + an SVG drawing of the same graph, until its
 *    first paint, given PEER_LIMIT_MS before it is called off.
 * `npm run bench:console` (or `node bench/console/run.ts 500 2000`).
 */
import pino from 'pino';
import { createPlanLayouts } from '../../api/index.ts';
import { manifest } from '../../test/api/api-harness.ts';
import type { Page } from 'playwright-core';
import { startConsole } from '../../test/console/console-harness.ts';
import { layeredGraph, type BenchTask } from '../run/graph.ts';
import { panZoomFps, stateUpdates, type Flips } from './interaction.ts';
import { dagreSvgFirstPaint, type PeerTiming } from './peer-page.ts';

const FIRST_PAINT_RUNS = 5;
const INTERACTION_RUNS = 3;
const FPS_MS = 5000;
const UPDATES_PER_SECOND = 1000;
const UPDATE_SECONDS = 5;
const TARGET_MS = 1500;
const TARGET_FPS = 50;
const PEER_LIMIT_MS = 60_000;
const SHAPES: Record<number, [number, number]> = { 500: [10, 50], 2000: [20, 100], 5000: [50, 100] };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const fmt = (ms: number) => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

function gatedManifest(name: string, tasks: BenchTask[]): string {
  const lines = tasks.flatMap((t) => [
    `    - id: ${t.id}`,
    ...(t.needs.length ? [`      needs: [${t.needs.join(', ')}]`] : []),
    '      run: "true"',
  ]);
  return manifest(name, `${lines.join('\n')}\n`, '  approvals:\n    required: 1\n    from: [team:ops]\n');
}

/** The sign-in page, as a person uses it (the harness's signInWith polls through vitest). */
async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function coldLayout(tasks: BenchTask[], runs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    // A fresh cache each time: the server's worker thread, cold.
    const layouts = createPlanLayouts({ logger: pino({ level: 'silent' }) });
    const start = performance.now();
    await layouts.of({ digest: `cold-${i}`, tasks });
    times.push(performance.now() - start);
    await layouts.close();
  }
  return times;
}

async function withLimit<T>(work: Promise<T>, ms: number): Promise<T | 'over'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const over = new Promise<'over'>((resolve) => (timer = setTimeout(() => resolve('over'), ms)));
  try {
    return await Promise.race([work, over]);
  } finally {
    clearTimeout(timer);
  }
}

const sizes = process.argv.slice(2).map(Number);
const wanted = sizes.length ? sizes : [500, 2000, 5000];
const c = await startConsole({ teams: 'teams:\n  ops: [alice]\n', bodyLimit: 20 * 1024 * 1024 });
const rows: string[] = [];
const interactionRows: string[] = [];
try {
  const signedIn = await c.page();
  await signIn(
    signedIn,
    c.api.url,
    await c.api.mint(['console', 'runs:read', 'workflows:write', 'runs:write']),
  );
  for (const size of wanted) {
    const [layers, width] = SHAPES[size] ?? [Math.ceil(size / 100), 100];
    const tasks = layeredGraph(layers, width);
    const edges = tasks.reduce((n, t) => n + t.needs.length, 0);
    const stored = await c.api.call('POST', '/v1/workflows', {
      raw: gatedManifest(`bench-${size}`, tasks),
      contentType: 'application/yaml',
    });
    if (stored.status >= 300)
      throw new Error(`storing the ${size}-task workflow: ${JSON.stringify(stored.body)}`);
    const run = (await c.api.call('POST', '/v1/runs', { body: { workflow: stored.body.digest } })).body.id;
    // Opened while the layout the store started is still being computed: the page must not wait.
    const coldPage = await signedIn.context().newPage();
    const opened = performance.now();
    await coldPage.goto(`${c.api.url}/runs/${run}`);
    await coldPage.locator('tr[data-task]').first().waitFor({ timeout: 120_000 });
    const coldTableMs = performance.now() - opened;
    await coldPage
      .getByTestId('dag')
      .and(coldPage.locator('[data-painted="true"]'))
      .waitFor({ timeout: 600_000 });
    const warmMs = performance.now() - opened;
    await coldPage.close();
    const graph = await c.api.call('GET', '/v1/runs/{id}/graph', { params: { id: run } });
    if (graph.body.nodes.length !== tasks.length) throw new Error('the graph lost tasks');
    const paints: number[] = [];
    for (let i = 0; i < FIRST_PAINT_RUNS; i++) {
      const page = await signedIn.context().newPage();
      await page.goto(`${c.api.url}/runs/${run}`);
      await page.getByTestId('dag').and(page.locator('[data-painted="true"]')).waitFor({ timeout: 120_000 });
      paints.push(await page.evaluate(() => performance.getEntriesByName('dag-first-paint')[0]!.startTime));
      await page.close();
    }
    const live = await signedIn.context().newPage();
    await live.goto(`${c.api.url}/runs/${run}`);
    await live.getByTestId('dag').and(live.locator('[data-painted="true"]')).waitFor({ timeout: 120_000 });
    await live.getByTestId('dag').scrollIntoViewIfNeeded();
    const fps = [];
    for (let i = 0; i < INTERACTION_RUNS; i++) fps.push(await panZoomFps(live, FPS_MS));
    await live.reload(); // the live stream opens once the run is loaded
    await live.getByTestId('dag').and(live.locator('[data-painted="true"]')).waitFor({ timeout: 120_000 });
    await new Promise((r) => setTimeout(r, 1000)); // the event stream's `ready`
    const flips: Flips = { states: new Map(tasks.map((t) => [t.id, 'queued'])), next: 0 };
    const updates = [];
    for (let i = 0; i < INTERACTION_RUNS; i++)
      updates.push(await stateUpdates(live, c.api, run, flips, UPDATES_PER_SECOND, UPDATE_SECONDS));
    await live.close();
    const fpsMedian = median(fps.map((f) => f.fps));
    const dropped = updates.map((u) => u.written - u.applied);
    const interaction = `| ${size} | ${fpsMedian.toFixed(0)} (${fps.map((f) => f.fps.toFixed(0)).join(', ')}; target ${TARGET_FPS}: ${fpsMedian >= TARGET_FPS ? 'met' : 'missed'}) | ${median(fps.map((f) => f.drawsPerSecond)).toFixed(0)} | ${median(fps.map((f) => f.longestFrameMs)).toFixed(0)} ms | ${updates.map((u) => `${u.applied}/${u.written}`).join(', ')} (dropped: ${Math.max(...dropped)}) | ${fmt(median(updates.map((u) => u.catchUpMs)))} | ${median(updates.map((u) => u.fps)).toFixed(0)} | ${updates.at(-1)!.graphFetches} | ${updates.reduce((n, u) => n + u.layoutsComputed, 0)} |`;
    console.log(interaction);
    interactionRows.push(interaction);
    const cold = await coldLayout(tasks, size >= 5000 ? 1 : 3);
    const peerPage = await signedIn.context().newPage();
    const peer: PeerTiming | 'over' | Error = await withLimit(
      dagreSvgFirstPaint(peerPage, tasks),
      PEER_LIMIT_MS,
    ).catch((e: Error) => e);
    await peerPage.close().catch(() => undefined);
    const paint = median(paints);
    const peerText =
      peer === 'over'
        ? `> ${fmt(PEER_LIMIT_MS)} (called off)`
        : peer instanceof Error
          ? `failed: ${peer.message.split('\n')[0]!.slice(0, 80)}`
          : `layout ${fmt(peer.layoutMs)}, first paint ${fmt(peer.paintMs)}`;
    const ratio =
      typeof peer === 'object' && !(peer instanceof Error) ? (peer.paintMs / paint).toFixed(1) : 'n/a';
    const row = `| ${size} | ${edges} | ${fmt(paint)} (${paints.map(fmt).join(', ')}; target ${fmt(TARGET_MS)}: ${paint <= TARGET_MS ? 'met' : 'missed'}) | ${fmt(median(cold))} (${cold.length} run${cold.length > 1 ? 's' : ''}) | tasks table ${fmt(coldTableMs)}, graph ${fmt(warmMs)} | ${peerText} | ${ratio}× |`;
    console.log(row);
    rows.push(row);
  }
} finally {
  await c.close();
}
console.log(
  '\n| tasks | edges | DAG first paint, layout cached (median) | cold elkjs layout | page opened while the layout is cold | dagre + SVG first paint (peer) | peer ÷ ours |',
);
console.log('|---|---|---|---|---|---|---|');
for (const row of rows) console.log(row);
console.log(
  '\n| tasks | pan + zoom fps (median of 3 × 5 s) | draws/s | longest frame | 1,000 updates/s × 5 s: applied/written | all applied after the last write | fps meanwhile | graph fetches | layouts re-run |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const row of interactionRows) console.log(row);
console.log(
  `load average: ${(await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
