/**
 * The console in real Chromium against the real server (test/console/console-harness.ts): sign
 * in, filter, open a run, follow a live log (with markup in it that must stay text), retry a
 * failed run and see the retry's tasks appear, cancel, download a receipt, the buttons a token
 * cannot use hidden, sign out; axe-core on every page; screenshots in test/artifacts/console/.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../console/index.ts';
import { HELLO, manifest } from '../api/api-harness.ts';
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
const ids: Record<string, string> = {};

/** The flaky task's witness: its first call fails (HTTP 500), every later one succeeds. */
function startWitness(): Promise<number> {
  let calls = 0;
  witness = createServer((_req, res) => {
    calls += 1;
    res.writeHead(calls === 1 ? 500 : 200).end(calls === 1 ? 'not yet' : 'ok');
  });
  return new Promise((resolve) =>
    witness.listen(0, '127.0.0.1', () => resolve((witness.address() as AddressInfo).port)),
  );
}

async function store(yaml: string): Promise<string> {
  const answer = await c.api.call('POST', '/v1/workflows', { raw: yaml, contentType: 'application/yaml' });
  expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
  return answer.body.digest;
}

async function start(digest: string): Promise<string> {
  return (await c.api.call('POST', '/v1/runs', { body: { workflow: digest } })).body.id;
}

const status = (p: Page) => p.getByTestId('run-status').textContent();
const taskRow = (p: Page, task: string) => p.locator(`tr[data-task="${task}"]`);

beforeAll(async () => {
  c = await startConsole({ teams: 'teams:\n  ops: [alice]\n' });
  const port = await startWitness();
  const digests = {
    hello: await store(HELLO),
    flaky: await store(
      manifest(
        'flaky',
        `    - id: flaky\n      run: curl -fsS http://127.0.0.1:${port}/flaky\n    - id: after\n      needs: [flaky]\n      run: echo after\n`,
      ),
    ),
    chatty: await store(
      manifest(
        'chatty',
        [
          '    - id: talk',
          '      run: |',
          "        echo '<script>window.__xss = 1</script>'",
          `        echo '<img src=x onerror="window.__xss = 2">'`,
          '        for i in 1 2 3 4 5 6; do echo "line $i"; sleep 0.5; done',
          '',
        ].join('\n'),
      ),
    ),
    slow: await store(manifest('slow', '    - id: wait\n      run: sleep 25\n')),
    gated: await store(
      manifest(
        'gated',
        '    - id: ship\n      run: echo shipped\n',
        '  approvals:\n    required: 1\n    from: [team:ops]\n',
      ),
    ),
  };
  Object.assign(ids, {
    digestPaused: await store(
      manifest(
        'paused',
        '    - id: gate\n      uses: tasks/approval@1\n      with: { reviewers: [alice] }\n    - id: ship\n      needs: [gate]\n      run: echo shipped\n',
      ),
    ),
    digestGated: digests.gated,
    digestChatty: digests.chatty,
    digestSlow: digests.slow,
    digestHello: digests.hello,
  });
  ids.hello = await start(digests.hello);
  await c.api.settle(ids.hello);
  ids.flaky = await start(digests.flaky);
  expect((await c.api.settle(ids.flaky)).body.run.status).toBe('failed');
  page = await c.page();
}, 120_000);

afterAll(async () => {
  await c?.close();
  witness?.close();
});

describe('the console in Chromium', () => {
  it('signs in with a token, keeps the token nowhere, and the cookie out of script’s reach', async () => {
    await page.goto(c.api.url);
    await eventually(() => page.getByLabel('API token').count()).toBe(1);
    await checkAccessibility(page, 'the sign-in page');
    await screenshot(page, 'sign-in');
    const token = await c.api.mint(['console', 'runs:read', 'runs:write', 'workflows:read'], { user: 'ops' });
    await signInWith(page, c.api.url, token);
    const stored = await page.evaluate(() => {
      // In the page (a browser global scope), typed here without the DOM library.
      const g = globalThis as unknown as {
        document: { cookie: string; documentElement: { outerHTML: string } };
        localStorage: object;
        sessionStorage: object;
      };
      return {
        cookie: g.document.cookie,
        local: JSON.stringify(g.localStorage),
        session: JSON.stringify(g.sessionStorage),
        html: g.document.documentElement.outerHTML,
      };
    });
    expect(stored.cookie).toBe(''); // HttpOnly
    for (const text of [stored.local, stored.session, stored.html]) expect(text).not.toContain(token);
  });

  it('lists runs with their facts, filters by the URL, and shows a new run live', async () => {
    await eventually(() => page.locator(`tr[data-run="${ids.flaky}"]`).count()).toBe(1);
    const row = await page.locator(`tr[data-run="${ids.hello}"]`).innerText();
    expect(row).toMatch(/succeeded\s+hello\s+quickstart\s+api/);
    await checkAccessibility(page, 'the runs list');
    await screenshot(page, 'runs');
    await page.getByLabel('Status').selectOption('failed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await eventually(() => new URL(page.url()).searchParams.get('status')).toBe('failed');
    await eventually(() => page.locator(`tr[data-run="${ids.hello}"]`).count()).toBe(0);
    expect(await page.locator(`tr[data-run="${ids.flaky}"]`).count()).toBe(1);
    // The URL is the view: opened fresh, it shows the same filter.
    await page.goto(page.url());
    await eventually(() => page.locator(`tr[data-run="${ids.flaky}"]`).count()).toBe(1);
    expect(await page.locator(`tr[data-run="${ids.hello}"]`).count()).toBe(0);
    await page.goto(c.api.url);
    await eventually(() => page.locator('tr[data-run]').count()).toBeGreaterThanOrEqual(2);
    const fresh = await start(ids.digestHello!);
    await eventually(() => page.locator(`tr[data-run="${fresh}"]`).count()).toBe(1);
    await eventually(() => page.locator(`tr[data-run="${fresh}"] .status`).textContent()).toBe('succeeded');
  });

  it('opens a run and follows a live log, rendering markup in it as text', async () => {
    ids.chatty = await start(ids.digestChatty!);
    await eventually(() => page.locator(`tr[data-run="${ids.chatty}"]`).count()).toBe(1);
    await page.locator(`tr[data-run="${ids.chatty}"] a`).click();
    await eventually(() => new URL(page.url()).pathname).toBe(`/runs/${ids.chatty}`);
    const logButton = page.getByRole('button', { name: 'Log of talk attempt 1' });
    await eventually(() => logButton.count()).toBe(1);
    await logButton.click();
    const log = page.locator('.log-text');
    await eventually(() => log.innerText()).toContain('line 1');
    // Live: the first lines are there while the task is still writing the rest.
    expect(await log.innerText()).not.toContain('line 6');
    await eventually(() => page.locator('.log-state').textContent()).toMatch(/^run succeeded/);
    const text = await log.innerText();
    expect(text).toContain('<script>window.__xss = 1</script>');
    expect(text).toContain('<img src=x onerror="window.__xss = 2">');
    expect(text.indexOf('line 1')).toBeLessThan(text.indexOf('line 6'));
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
    expect(await log.locator('script, img').count()).toBe(0);
    await checkAccessibility(page, 'a run with its log');
    await screenshot(page, 'run-log');
  });

  it("opens the task and attempt a trace's task URL names (?task=&attempt=), with that attempt's log", async () => {
    await page.goto(`${c.api.url}/runs/${ids.chatty}?task=talk&attempt=1`);
    await eventually(() => page.locator('#log-heading').textContent()).toBe('Log of talk, attempt 1');
    await eventually(() => page.locator('.log-text').innerText()).toContain('line 6');
    // Without an attempt: no log is opened.
    await page.goto(`${c.api.url}/runs/${ids.chatty}?task=talk`);
    await eventually(() => status(page)).toBe('succeeded');
    expect(await page.locator('#log-heading').count()).toBe(0);
  });

  it('retries a failed run and shows the retry’s tasks as they run', async () => {
    await page.goto(`${c.api.url}/runs/${ids.flaky}`);
    await eventually(() => status(page)).toBe('failed');
    expect(await taskRow(page, 'flaky').innerText()).toMatch(/failed/);
    expect(await taskRow(page, 'after').locator('button', { hasText: 'Log of' }).count()).toBe(0); // never ran
    await page.getByRole('button', { name: 'Retry failed tasks' }).click();
    await eventually(() => status(page)).toBe('succeeded');
    await eventually(() => taskRow(page, 'after').locator('.status').textContent()).toBe('succeeded');
    expect(await taskRow(page, 'flaky').locator('td').nth(2).textContent()).toBe('2'); // attempts
    expect(await page.getByRole('button', { name: 'Log of flaky attempt 2' }).count()).toBe(1);
    await screenshot(page, 'run-retried');
  });

  it('cancels a running run', async () => {
    ids.slow = await start(ids.digestSlow!);
    await page.goto(`${c.api.url}/runs/${ids.slow}`);
    await eventually(() => status(page)).toBe('running');
    await page.getByRole('button', { name: 'Cancel run' }).click();
    await eventually(() => status(page)).toBe('cancelled');
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
  });

  it('downloads a receipt: the signed bundle the API serves', async () => {
    await page.goto(`${c.api.url}/runs/${ids.hello}`);
    const button = page.getByRole('button', { name: 'Download receipt of greet attempt 1' });
    await eventually(() => button.count()).toBe(1);
    const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
    const file = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { mediaType: string };
    expect(file.mediaType).toMatch(/^application\/vnd\.dev\.sigstore\.bundle/);
    const served = await c.api.call('GET', '/v1/runs/{id}/receipts', {
      params: { id: ids.hello! },
      query: { task: 'greet' },
    });
    expect(file).toEqual(served.body.find((r: { attempt: number }) => r.attempt === 1).bundle);
  });

  it('hides retry and cancel from a token whose scopes do not allow them', async () => {
    const reader = await c.page();
    await signInWith(reader, c.api.url, await c.api.mint(['console', 'runs:read']));
    await reader.goto(`${c.api.url}/runs/${ids.slow}`);
    await eventually(() => status(reader)).toBe('cancelled');
    expect(await reader.getByRole('button', { name: /Retry|Cancel/ }).count()).toBe(0);
    // The writer sees the retry of the same cancelled run.
    await page.goto(`${c.api.url}/runs/${ids.slow}`);
    await eventually(() => page.getByRole('button', { name: 'Retry failed tasks' }).count()).toBe(1);
    await reader.context().close();
  });

  it('approves a run waiting for approval from a token that may, and shows who approved it', async () => {
    ids.gated = await start(ids.digestGated!);
    await page.goto(`${c.api.url}/runs/${ids.gated}`);
    await eventually(() => status(page)).toBe('waiting_for_approval');
    expect(await page.getByRole('button', { name: 'Approve run' }).count()).toBe(0); // no approvals:write
    const alice = await c.page();
    await signInWith(
      alice,
      c.api.url,
      await c.api.mint(['console', 'approvals:write', 'runs:read'], { user: 'alice' }),
    );
    await alice.goto(`${c.api.url}/runs/${ids.gated}`);
    await eventually(() => status(alice)).toBe('waiting_for_approval');
    await checkAccessibility(alice, 'a run waiting for approval');
    await alice.getByRole('button', { name: 'Approve run' }).click();
    await eventually(() => alice.locator('tr[data-approver="alice"]').count()).toBe(1);
    await eventually(() => status(alice)).toBe('succeeded');
    expect(await alice.getByRole('button', { name: 'Approve run' }).count()).toBe(0);
    // The other page follows live: the approval and the start appear without a reload.
    await eventually(() => status(page)).toBe('succeeded');
    expect(await page.locator('tr[data-approver="alice"]').count()).toBe(1);
    await screenshot(alice, 'run-approved');
    expect(cspViolations(alice)).toEqual([]);
    await alice.context().close();
  });

  it('approves a task the run waits on (tasks/approval@1) from a token that may, and hides the button otherwise', async () => {
    ids.paused = await start(ids.digestPaused!);
    const viewer = await c.page();
    await signInWith(viewer, c.api.url, await c.api.mint(['console', 'runs:read'], { user: 'viewer' }));
    await viewer.goto(`${c.api.url}/runs/${ids.paused}`);
    await eventually(() => status(viewer)).toBe('waiting_for_approval');
    await eventually(() => taskRow(viewer, 'gate').count()).toBe(1);
    expect(await viewer.getByRole('button', { name: 'Approve task gate' }).count()).toBe(0); // no approvals:write
    await viewer.context().close();
    const alice = await c.page();
    await signInWith(
      alice,
      c.api.url,
      await c.api.mint(['console', 'approvals:write', 'runs:read'], { user: 'alice' }),
    );
    await alice.goto(`${c.api.url}/runs/${ids.paused}`);
    await eventually(() => alice.getByRole('button', { name: 'Approve task gate' }).count()).toBe(1);
    // The run-level grant would be refused for a run parked on a task: not offered.
    expect(await alice.getByRole('button', { name: 'Approve run' }).count()).toBe(0);
    await alice.getByRole('button', { name: 'Approve task gate' }).click();
    await eventually(() => status(alice)).toBe('succeeded');
    expect(await alice.getByRole('button', { name: 'Approve task gate' }).count()).toBe(0);
    expect(cspViolations(alice)).toEqual([]);
    await alice.context().close();
  });

  it('serves every page under a strict CSP that none of them breaks, and signs out', async () => {
    const answer = await fetch(`${c.api.url}/runs/${ids.hello}`);
    expect(answer.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
    expect(cspViolations(page)).toEqual([]);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await eventually(() => page.getByLabel('API token').count()).toBe(1);
    expect((await page.context().cookies()).filter((k) => k.value !== '')).toEqual([]);
  });
});
