import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { buildConsole, isConsoleBuilt } from './build.ts';
import { CONTENT_SECURITY_POLICY, mountConsole } from './serve.ts';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'console-'));
  dirs.push(dir);
  return join(dir, 'dist');
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('the console’s assets', () => {
  it('builds the three files, after which they count as built', async () => {
    const dist = temp();
    expect(isConsoleBuilt(dist)).toBe(false);
    await buildConsole(dist);
    for (const f of ['index.html', 'app.js', 'app.css']) expect(existsSync(join(dist, f))).toBe(true);
    expect(isConsoleBuilt(dist)).toBe(true);
  });

  it('serves the pages and assets with the CSP, and nothing else by path', async () => {
    const fastify = Fastify();
    await mountConsole(fastify, { logger, dist: temp() });
    const page = await fastify.inject({ url: '/runs/r-1' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.body).toContain('/console/app.js');
    expect((await fastify.inject({ url: '/console/app.js' })).headers['content-type']).toMatch(/javascript/);
    expect((await fastify.inject({ url: '/console/../package.json' })).statusCode).toBe(404);
    expect((await fastify.inject({ url: '/console/index.ts' })).statusCode).toBe(404);
    await fastify.close();
  });

  it('answers 503 naming the command when the assets cannot be built, and the server still starts', async () => {
    const fastify = Fastify();
    await mountConsole(fastify, {
      logger,
      dist: temp(),
      build: async () => {
        throw new Error('esbuild is not installed');
      },
    });
    const page = await fastify.inject({ url: '/' });
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('npm run build:console');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    await fastify.close();
  });
});
