import { spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_WORKER_RUNS } from '../runtime/index.ts';

const node = join(process.cwd(), 'node_modules/.bin/node');
const dir = mkdtempSync(join(tmpdir(), 'maestro-app-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

describe('maestro app', () => {
  it('refuses to start without WEBHOOK_SECRET and names the variable', () => {
    const result = spawnSync(node, ['bin/maestro.ts', 'app', '--data-dir', dir], {
      env: { PATH: process.env.PATH, APP_ID: '1', PRIVATE_KEY_PATH: '/nonexistent' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('WEBHOOK_SECRET is not set');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an unreadable PRIVATE_KEY_PATH, naming it', () => {
    const result = spawnSync(node, ['bin/maestro.ts', 'app', '--data-dir', dir], {
      env: {
        PATH: process.env.PATH,
        APP_ID: '1',
        WEBHOOK_SECRET: 's',
        PRIVATE_KEY_PATH: join(dir, 'missing.pem'),
      },
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('PRIVATE_KEY_PATH');
  });

  it('starts with probot variables, serves /healthz and /readyz, refuses unsigned webhooks, and stops on SIGTERM', async () => {
    const keyPath = join(dir, 'app.pem');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(keyPath, privateKey.export({ type: 'pkcs1', format: 'pem' }));
    const port = await freePort();
    const child = spawn(node, ['bin/maestro.ts', 'app', '--data-dir', join(dir, 'data')], {
      env: {
        PATH: process.env.PATH,
        APP_ID: '12',
        PRIVATE_KEY_PATH: keyPath,
        WEBHOOK_SECRET: 'x',
        PORT: String(port),
        HOST: '127.0.0.1',
        GHE_HOST: '127.0.0.1:9',
        GHE_PROTOCOL: 'http',
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    for (let i = 0; i < 200 && !output.includes('maestro app listening'); i += 1)
      await new Promise((r) => setTimeout(r, 50));
    expect(output).toContain('"baseUrl":"http://127.0.0.1:9/api/v3"');
    // It executes the runs it dispatches, so it takes a worker's slots, not the CPU count
    // (with the CPU count a push's first task queued behind others' source fetches).
    expect(output).toContain(`"concurrency":${Math.max(availableParallelism(), DEFAULT_WORKER_RUNS)}`);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    const unsigned = await fetch(`http://127.0.0.1:${port}/api/github/webhooks`, {
      method: 'POST',
      body: '{}',
      headers: { 'x-github-event': 'push', 'x-github-delivery': 'd1' },
    });
    expect(unsigned.status).toBe(401);
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(0);
  });

  it('app.yml asks for least privilege and the events the app handles', () => {
    const manifest = parse(readFileSync('app.yml', 'utf8')) as {
      default_permissions: Record<string, string>;
      default_events: string[];
    };
    expect(manifest.default_permissions).toEqual({
      checks: 'write',
      contents: 'read',
      pull_requests: 'write',
      issues: 'read',
      members: 'read',
      metadata: 'read',
    });
    expect([...manifest.default_events].sort()).toEqual(
      ['check_run', 'check_suite', 'issue_comment', 'pull_request', 'pull_request_review', 'push'].sort(),
    );
  });
});
