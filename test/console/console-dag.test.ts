/**
 * The DAG view in real Chromium against the real server (console-harness.ts): a real run's plan
 * drawn from GET /v1/runs/{id}/graph with every task (the ones that never ran too), live state
 * colours read back from the canvas's pixels, a click on a failed box retrying just that task
 * through the public API, and the accessible alternative (the Tasks table, with the critical
 * path) passing axe and working from the keyboard.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifest } from '../api/api-harness.ts';
import {
  checkAccessibility,
  cspViolations,
  eventually,
  screenshot,
  signInWith,
  startConsole,
  type ConsoleHarness,
} from './console-harness.ts';

let c: ConsoleHarness;
let page: Page;
let witness: Server;
let runId = '';

function startWitness(): Promise<number> {
  let calls = 0;
  witness = createServer((_req, res) => {
    calls += 1;
    res.writeHead(calls === 1 ? 500 : 200).end();
  });
  return new Promise((resolve) =>
    witness.listen(0, '127.0.0.1', () => resolve((witness.address() as AddressInfo).port)),
  );
}

const TASKS = ['setup', 'flaky', 'broken', 'after', 'last'];

beforeAll(async () => {
  c = await startConsole();
  const port = await startWitness();
  const yaml = manifest(
    'diamond',
    [
      '    - id: setup',
      '      run: "true"',
      '    - id: flaky',
      '      needs: [setup]',
      `      run: curl -fsS http://127.0.0.1:${port}/flaky`,
      '    - id: broken',
      '      needs: [setup]',
      '      run: "exit 3"',
      '    - id: after',
      '      needs: [flaky]',
      '      run: "true"',
      '    - id: last',
      '      needs: [after, broken]',
      '      run: "true"',
      '',
    ].join('\n'),
  );
  const stored = await c.api.call('POST', '/v1/workflows', { raw: yaml, contentType: 'application/yaml' });
  runId = (await c.api.call('POST', '/v1/runs', { body: { workflow: stored.body.digest } })).body.id;
  expect((await c.api.settle(runId)).body.run.status).toBe('failed');
  page = await c.page();
}, 120_000);

afterAll(async () => {
  await c?.close();
  witness?.close();
});

/** Where a task's box is on the page, from the API's layout and the canvas's view. */
async function boxOf(task: string): Promise<{ x: number; y: number }> {
  const graph = (await c.api.call('GET', '/v1/runs/{id}/graph', { params: { id: runId } })).body;
  const node = graph.nodes.find((n: { id: string }) => n.id === task);
  const canvas = page.getByTestId('dag');
  await canvas.scrollIntoViewIfNeeded(); // page coordinates of a box in view
  const [scale, tx, ty] = (await canvas.getAttribute('data-view'))!.split(',').map(Number) as [
    number,
    number,
    number,
  ];
  const rect = (await canvas.boundingBox())!;
  return { x: rect.x + tx + (node.x + 4) * scale, y: rect.y + ty + (node.y + 4) * scale };
}

/** The page point at the centre of a task's box. */
async function centreOf(task: string): Promise<{ x: number; y: number }> {
  const graph = (await c.api.call('GET', '/v1/runs/{id}/graph', { params: { id: runId } })).body;
  const node = graph.nodes.find((n: { id: string }) => n.id === task);
  const canvas = page.getByTestId('dag');
  await canvas.scrollIntoViewIfNeeded();
  const [scale, tx, ty] = (await canvas.getAttribute('data-view'))!.split(',').map(Number) as [
    number,
    number,
    number,
  ];
  const rect = (await canvas.boundingBox())!;
  return {
    x: rect.x + tx + (node.x + graph.nodeWidth / 2) * scale,
    y: rect.y + ty + (node.y + graph.nodeHeight / 2) * scale,
  };
}

/** The colour the canvas shows at a page point, as #rrggbb. */
async function colourAt(point: { x: number; y: number }): Promise<string> {
  return page.getByTestId('dag').evaluate((el, p) => {
    // In the page, typed here without the DOM library (as console-browser.test.ts does).
    const canvas = el as unknown as {
      width: number;
      getBoundingClientRect(): { left: number; top: number; width: number };
      getContext(kind: '2d'): {
        getImageData(x: number, y: number, w: number, h: number): { data: number[] };
      };
    };
    const r = canvas.getBoundingClientRect();
    const k = canvas.width / r.width;
    const d = canvas.getContext('2d').getImageData((p.x - r.left) * k, (p.y - r.top) * k, 1, 1).data;
    return `#${[d[0], d[1], d[2]].map((v) => v!.toString(16).padStart(2, '0')).join('')}`;
  }, point);
}

describe('the DAG view in Chromium', () => {
  it('draws every task of a real run’s plan, the ones that never ran too, in their states’ colours', async () => {
    await signInWith(page, c.api.url, await c.api.mint(['console', 'runs:read', 'runs:write']));
    await page.goto(`${c.api.url}/runs/${runId}`);
    const canvas = page.getByTestId('dag');
    await eventually(() => canvas.getAttribute('data-painted')).toBe('true');
    expect(await canvas.getAttribute('data-nodes')).toBe(String(TASKS.length));
    expect(await canvas.getAttribute('data-drawn')).toBe(String(TASKS.length)); // all in view
    expect(await page.locator('tr[data-task]').count()).toBe(TASKS.length);
    expect(await colourAt(await boxOf('flaky'))).toBe('#c62828'); // failed
    expect(await colourAt(await boxOf('setup'))).toBe('#2e7d32'); // succeeded
    expect(await colourAt(await boxOf('after'))).toBe('#bdbdbd'); // skipped: never ran, still drawn
  });

  it('lists the tasks with the critical path in a table that passes axe and works from the keyboard', async () => {
    await checkAccessibility(page, 'a run with its graph');
    const onPath = await page
      .locator('tr[data-task]')
      .evaluateAll((rows) =>
        rows.filter((r) => r.textContent?.includes('on it')).map((r) => r.getAttribute('data-task')),
      );
    expect(onPath[0]).toBe('setup'); // the path starts at the root
    expect(onPath.length).toBeGreaterThanOrEqual(2);
    const show = page.getByRole('button', { name: 'Show broken in the graph' });
    await show.focus();
    await page.keyboard.press('Enter');
    await eventually(() => page.getByTestId('dag-selected').innerText()).toContain('broken');
    expect(await page.getByTestId('dag-selected').innerText()).toMatch(/failed/);
    await screenshot(page, 'run-dag');
  });

  it('retries just the clicked failed task through the public API, and recolours it live', async () => {
    const flaky = await boxOf('flaky');
    await page.mouse.click(flaky.x, flaky.y);
    await eventually(() => page.getByTestId('dag-selected').innerText()).toContain('flaky');
    await page.getByRole('button', { name: 'Retry task flaky' }).click();
    // The canvas follows the event stream: flaky turns green without a reload.
    await eventually(async () => colourAt(await boxOf('flaky'))).toBe('#2e7d32');
    await eventually(async () => colourAt(await boxOf('after'))).toBe('#2e7d32');
    const run = (await c.api.settle(runId)).body;
    const byId = Object.fromEntries(run.tasks.map((t: { id: string }) => [t.id, t]));
    expect(byId.flaky.attempts).toHaveLength(2);
    expect(byId.after.state).toBe('succeeded');
    expect(byId.broken).toMatchObject({ state: 'failed' });
    expect(byId.broken.attempts).toHaveLength(1); // not retried: only the clicked task was
    expect(run.run.status).toBe('failed');
    const transitions = (await c.api.call('GET', '/v1/runs/{id}/transitions', { params: { id: runId } }))
      .body;
    expect(
      transitions.items.filter(
        (t: { task: string | null; reason: string }) => t.task === 'broken' && t.reason === 'retried_by_user',
      ),
    ).toEqual([]);
    expect(await colourAt(await boxOf('broken'))).toBe('#c62828');
    expect(cspViolations(page)).toEqual([]);
  });

  it('far out, without labels, still shows every box in its state’s colour, and a pan moves them', async () => {
    const canvas = page.getByTestId('dag');
    for (let i = 0; i < 5; i++) await page.getByRole('button', { name: 'Zoom out' }).click();
    const [scale] = (await canvas.getAttribute('data-view'))!.split(',').map(Number) as [number];
    expect(scale * 32).toBeLessThan(14); // the far-out level of detail (dag-draw.ts): no labels
    await eventually(async () => colourAt(await centreOf('broken'))).toBe('#c62828');
    expect(await colourAt(await centreOf('flaky'))).toBe('#2e7d32');
    expect(await colourAt(await centreOf('setup'))).toBe('#2e7d32');
    const before = Number(await canvas.getAttribute('data-draws'));
    await canvas.focus();
    await page.keyboard.press('ArrowLeft'); // a pan: the boxes move, their colours with them
    await eventually(async () => Number(await canvas.getAttribute('data-draws'))).toBeGreaterThan(before);
    expect(await colourAt(await centreOf('broken'))).toBe('#c62828');
    expect(await canvas.getAttribute('data-drawn')).toBe(String(TASKS.length));
  });
});
