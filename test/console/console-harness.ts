/**
 * The console in real Chromium (Debian's, driven by playwright-core) against the real server:
 * the API harness with the console mounted as `maestro server` mounts it, and a browser whose
 * pages keep the server's Content-Security-Policy (no bypass). Screenshots go to
 * test/artifacts/console/ (git-ignored). axe-core is evaluated in the page through the DevTools
 * protocol, which the page's CSP does not govern, so the app itself runs under its real policy.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import pino from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { mountConsole } from '../../console/index.ts';
import { startApi, type ApiHarness } from '../api/api-harness.ts';

export const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts', 'console');
const CHROMIUM = '/usr/bin/chromium';
const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface ConsoleHarness {
  api: ApiHarness;
  browser: Browser;
  /** A fresh page (its own context: no cookie shared with another page). */
  page(): Promise<Page>;
  close(): Promise<void>;
}

export async function startConsole(
  options: { teams?: string; bodyLimit?: number; env?: Record<string, string> } = {},
): Promise<ConsoleHarness> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const api = await startApi({
    ...(options.teams ? { teams: options.teams } : {}),
    ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}),
    ...(options.env ? { env: options.env } : {}),
    mount: (fastify) => mountConsole(fastify, { logger: pino({ level: 'silent' }) }),
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  return {
    api,
    browser,
    async page() {
      const context = await browser.newContext({
        acceptDownloads: true,
        viewport: { width: 1280, height: 900 },
      });
      const page = await context.newPage();
      const violations: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      (page as Page & { cspViolations: string[] }).cspViolations = violations;
      return page;
    },
    async close() {
      await browser.close();
      await api.close();
    },
  };
}

/** expect.poll with room for a loaded machine (the whole suite shares two cores with Chromium). */
export const eventually = <T>(fn: () => T | Promise<T>) =>
  expect.poll(fn, { timeout: 30_000, interval: 100 });

export const cspViolations = (page: Page): string[] =>
  (page as Page & { cspViolations?: string[] }).cspViolations ?? [];

export async function signInWith(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await eventually(() => page.getByRole('button', { name: 'Sign out' }).count()).toBe(1);
}

/** axe-core on the page as it is now: no serious or critical violation. */
export async function checkAccessibility(page: Page, what: string): Promise<void> {
  await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(): Promise<{ violations: unknown[] }> } }).axe;
    return (await axe.run()).violations as { id: string; impact: string; nodes: { target: string[] }[] }[];
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(
    bad.map((v) => `${v.id} (${v.impact}) at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
    `axe on ${what}`,
  ).toEqual([]);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}
