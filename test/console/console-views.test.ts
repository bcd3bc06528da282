/**
 * The console's other views in real Chromium against the real server (console-harness.ts): a
 * matrix fan-out drawn as one box that a click expands, the critical path's waterfall (actual
 * times for a finished run, estimates from history for a run still waiting), the duration
 * chart of a workflow from the public runs list, the label filter on the runs list, the policy
 * decisions' reasons, and the windowed tasks table of a large run. axe-core on each page; screenshots as artifacts.
 */
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
let finished = '';
let waiting = '';
let big = '';
let refused = '';

const TASKS = [
  '    - id: prep',
  '      run: "true"',
  '    - id: build',
  '      needs: [prep]',
  '      matrix:',
  '        os: [linux, mac, win, bsd]',
  '      run: "sleep 0.2"',
  '    - id: ship',
  '      needs: [build]',
  '      run: "true"',
  '',
].join('\n');
const LABELLED = manifest('views', TASKS).replace(
  '  namespace: quickstart\n',
  '  namespace: quickstart\n  labels:\n    team: data\n',
);
const APPROVALS = '  approvals:\n    required: 1\n    from: [team:ops]\n';
const GATED = manifest('views', TASKS, APPROVALS).replace(
  '  namespace: quickstart\n',
  '  namespace: quickstart\n  labels:\n    team: data\n',
);
const BIG_TASKS = 260;

async function store(yaml: string): Promise<string> {
  const stored = await c.api.call('POST', '/v1/workflows', { raw: yaml, contentType: 'application/yaml' });
  expect(stored.status).toBeLessThan(300);
  return stored.body.digest;
}

async function start(digest: string): Promise<string> {
  return (await c.api.call('POST', '/v1/runs', { body: { workflow: digest } })).body.id;
}

beforeAll(async () => {
  c = await startConsole({ teams: 'teams:\n  ops: [alice]\n' });
  finished = await start(await store(LABELLED));
  expect((await c.api.settle(finished)).body.run.status).toBe('succeeded');
  waiting = await start(await store(GATED));
  const chain = Array.from({ length: BIG_TASKS }, (_, i) =>
    [`    - id: t${i}`, ...(i ? [`      needs: [t${i - 1}]`] : []), '      run: "true"'].join('\n'),
  );
  big = await start(await store(manifest('big', `${chain.join('\n')}\n`, APPROVALS)));
  await c.api.call('POST', '/v1/runs', {
    body: { workflow: await store(manifest('unlabelled', '    - id: a\n      run: "true"\n')) },
  });
  refused = await start(
    await store(
      manifest('refused', '    - id: b\n      run: "true"\n', '  policy:\n    license: not-a-licence\n'),
    ),
  );
  await c.api.settle(refused);
  page = await c.page();
}, 180_000);

afterAll(async () => c?.close());

/** Page coordinates of a graph node's box, from the API's layout and the canvas's view. */
async function boxOf(runId: string, task: string): Promise<{ x: number; y: number }> {
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
  return { x: rect.x + tx + (node.x + 4) * scale, y: rect.y + ty + (node.y + 4) * scale };
}

describe('the console’s views in Chromium', () => {
  it('draws a matrix fan-out as one box with its counts, and expands it on a click', async () => {
    await signInWith(page, c.api.url, await c.api.mint(['console', 'runs:read', 'runs:write']));
    await page.goto(`${c.api.url}/runs/${finished}`);
    const canvas = page.getByTestId('dag');
    await eventually(() => canvas.getAttribute('data-painted')).toBe('true');
    expect(await canvas.getAttribute('data-nodes')).toBe('6'); // prep, 4 builds, ship
    expect(await canvas.getAttribute('data-shown')).toBe('3'); // prep, the build box, ship
    expect(await page.locator('[data-fan-out="build"]').innerText()).toContain('build ×4: 4 succeeded');
    await checkAccessibility(page, 'a run with a collapsed fan-out');
    await screenshot(page, 'run-fan-out-collapsed');
    // The box is where the first expansion's box is (the layout is the server's, never re-run).
    const box = await boxOf(finished, 'build[os=linux]');
    await page.mouse.click(box.x, box.y);
    await eventually(() => canvas.getAttribute('data-shown')).toBe('6');
    expect(await page.locator('[data-fan-out]').count()).toBe(0);
    await screenshot(page, 'run-fan-out-expanded');
    await page.getByRole('button', { name: 'Collapse fan-outs' }).click();
    await eventually(() => canvas.getAttribute('data-shown')).toBe('3');
    expect(cspViolations(page)).toEqual([]);
  });

  it("expands a collapsed fan-out and centres the task when the tasks table's Show … in the graph asks", async () => {
    await page.goto(`${c.api.url}/runs/${finished}`);
    const canvas = page.getByTestId('dag');
    await eventually(() => canvas.getAttribute('data-painted')).toBe('true');
    expect(await canvas.getAttribute('data-shown')).toBe('3');
    await page.getByRole('button', { name: 'Show build[os=win] in the graph' }).click();
    await eventually(() => canvas.getAttribute('data-shown')).toBe('6');
    expect(await page.getByTestId('dag-selected').locator('h3').innerText()).toBe('Task build[os=win]');
    // Centred: its box is inside the canvas, in the middle of it.
    const box = await boxOf(finished, 'build[os=win]');
    const rect = (await canvas.boundingBox())!;
    expect(box.x).toBeGreaterThan(rect.x);
    expect(box.x).toBeLessThan(rect.x + rect.width);
    expect(Math.abs(box.y - (rect.y + rect.height / 2))).toBeLessThan(rect.height / 2);
    await checkAccessibility(page, 'a task shown in the graph from the tasks table');
  });

  it('shows the critical path as a waterfall: actual times when finished, estimates from history when not', async () => {
    const rows = page.locator('[data-waterfall-task]');
    const onPath = await rows.evaluateAll((r) => r.map((row) => row.getAttribute('data-waterfall-task')));
    expect(onPath[0]).toBe('prep');
    expect(onPath.at(-1)).toBe('ship');
    expect(onPath[1]).toMatch(/^build\[os=/);
    expect(await page.getByTestId('waterfall').innerText()).not.toContain('estimated');
    await page.goto(`${c.api.url}/runs/${waiting}`);
    await eventually(() => page.locator('[data-waterfall-task]').count()).toBe(3);
    const build = await page.locator('[data-waterfall-task^="build"]').innerText();
    expect(build).toContain('(estimated from history)');
    expect(build).not.toMatch(/\b0\.0 s \(estimated/); // the finished run's build took ~0.2 s
    await checkAccessibility(page, 'a waiting run with its waterfall');
    await screenshot(page, 'run-waterfall');
  });

  it('charts a workflow’s run durations over time from the public runs list', async () => {
    await page.getByRole('link', { name: 'Duration of views’s runs over time' }).click();
    await eventually(() => page.getByTestId('duration-chart').count()).toBe(1);
    const finishedRuns = (
      await c.api.call('GET', '/v1/runs', {
        query: { workflow: 'views', namespace: 'quickstart', status: 'succeeded,failed' },
      })
    ).body.items;
    expect(await page.locator('[data-testid="duration-chart"] circle').count()).toBe(finishedRuns.length);
    expect(await page.locator(`circle[data-run="${finished}"]`).getAttribute('fill')).toBe('#2e7d32');
    await page.getByText('Durations as a table').click();
    expect(await page.getByTestId('duration-chart').locator('tbody tr').count()).toBe(finishedRuns.length);
    await checkAccessibility(page, 'the runs list with a duration chart');
    await screenshot(page, 'runs-duration');
  });

  it('filters the runs list by label, kept in the URL', async () => {
    await page.goto(`${c.api.url}/`);
    await page.getByLabel('Label').fill('team=data');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await eventually(() => new URL(page.url()).searchParams.get('label')).toBe('team=data');
    await eventually(() => page.locator('tr[data-run]').count()).toBe(2);
    const shown = await page
      .locator('tr[data-run]')
      .evaluateAll((r) => r.map((x) => x.getAttribute('data-run')));
    expect(new Set(shown)).toEqual(new Set([finished, waiting]));
    await page.reload(); // a shared link shows the same
    await eventually(() => page.locator('tr[data-run]').count()).toBe(2);
    expect(await page.getByLabel('Label').inputValue()).toBe('team=data');
    await checkAccessibility(page, 'the runs list filtered by label');
  });

  it('shows each attempt’s policy decisions with their reasons', async () => {
    await page.goto(`${c.api.url}/runs/${refused}`);
    const decision = page.locator('tr[data-task="b"] [data-decision]');
    await eventually(() => decision.count()).toBe(1);
    expect(await decision.innerText()).toMatch(/^denied: license "not-a-licence" is not on the allow-list/);
    await page.goto(`${c.api.url}/runs/${finished}`);
    await eventually(() => page.locator('tr[data-task="prep"] [data-decision]').count()).toBe(1);
    expect(await page.locator('tr[data-task="prep"] [data-decision]').innerText()).toBe('allowed');
    await checkAccessibility(page, 'a run with its policy decisions');
    await screenshot(page, 'run-decisions');
  });

  it('windows the tasks table of a large run, with a filter that reaches any task', async () => {
    await page.goto(`${c.api.url}/runs/${big}`);
    const table = page.locator('table[data-windowed="true"]');
    await eventually(() => table.count()).toBe(1);
    expect(await table.getAttribute('aria-rowcount')).toBe(String(BIG_TASKS + 1));
    const rendered = await page.locator('tr[data-task]').count();
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThan(60); // the rows in view, not 260
    expect(await page.locator('tr[data-task="t259"]').count()).toBe(0);
    await page.getByLabel('Filter tasks (id or state)').fill('t259');
    await eventually(() => page.locator('tr[data-task="t259"]').count()).toBe(1);
    expect(await page.locator('tr[data-task="t259"]').getAttribute('aria-rowindex')).toBe('2');
    await page.getByLabel('Filter tasks (id or state)').fill('');
    await page.locator('.tasks-scroll').evaluate((el) => (el.scrollTop = el.scrollHeight));
    await eventually(() => page.locator('tr[data-task="t259"]').count()).toBe(1);
    expect(await page.locator('tr[data-task="t0"]').count()).toBe(0);
    await checkAccessibility(page, 'a large run’s windowed tasks table');
    await screenshot(page, 'run-windowed-tasks');
  });
});
