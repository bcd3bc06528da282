import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/action-step.ts';

describe('maestro sig-dev-server', () => {
  it('prints its URL, serves the majors asked for, validates, and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['bin/maestro.ts', 'sig-dev-server', '--port', '0', '--versions', '1,2'],
      {
        cwd: repoRoot,
        env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn' },
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    while (!out.includes('\n')) await once(child.stdout, 'data');
    const url = out.split('\n')[0]!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/versions`)).json()).toEqual({
      contracts: { ingest: [1, 2], claims: [1, 2], runbookTrigger: [1, 2] },
    });
    const refused = await fetch(`${url}/v2/ingest/batches`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ schemaVersion: 3, idempotencyKey: 'cli-test-1', records: [] }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { code: string }).code).toBe('contract_violation');
    expect((await fetch(`${url}/v3/ingest/batches`, { method: 'POST' })).status).toBe(404);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('refuses a major it does not know (usage error, exit 2)', async () => {
    const child = spawn(process.execPath, ['bin/maestro.ts', 'sig-dev-server', '--versions', '4'], {
      cwd: repoRoot,
    });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(2);
    expect(err).toContain('--versions 4');
  });
});
