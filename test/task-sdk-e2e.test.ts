/**
 * A catalog task on the SDK (tasks/schema-validate) through the whole path a user takes: `maestro run`
 * compiles the workflow, the engine starts `node tasks/schema-validate/index.ts` in the local runner's
 * sandbox with MAESTRO_INPUTS and MAESTRO_MESSAGES, and its output (reported as a message)
 * reaches the next task's template and the stored attempt.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCaptured, writeWorkflow } from './cli-helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-sdk-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATH: process.env.PATH, HOME: process.env.HOME };

interface Shown {
  status: string;
  tasks: Array<{ id: string; state: string; attempts: Array<{ outputs: Record<string, string> }> }>;
}

describe('a catalog task on the SDK, run by maestro run', () => {
  it('reports its output through the messages file; the next task reads it', async () => {
    const file = writeWorkflow(
      dir,
      'sdk',
      `    - id: check
      uses: tasks/schema-validate@1.1.0
      with: { schema: { type: object }, value: { a: 1 } }
    - id: after
      needs: [check]
      run: echo "valid \${tasks.check.outputs.valid}"
`,
    );
    const dataDir = join(dir, 'data');
    const run = await runCaptured(['run', file, '--data-dir', dataDir], dir, env);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain('valid true');
    const list = await runCaptured(['runs', 'list', '--data-dir', dataDir, '--format', 'json'], dir, env);
    const [{ id }] = JSON.parse(list.stdout) as [{ id: string }];
    const show = await runCaptured(['runs', 'show', id, '--data-dir', dataDir, '--format', 'json'], dir, env);
    const shown = JSON.parse(show.stdout) as Shown;
    expect(shown.status).toBe('succeeded');
    expect(shown.tasks.find((t) => t.id === 'check')!.attempts.at(-1)!.outputs).toMatchObject({
      valid: 'true',
      errors: '0',
    });
    // Its log message arrived through the messages file (stdout), not the fallback (stderr).
    const logs = await runCaptured(
      ['runs', 'logs', id, '--task', 'check', '--data-dir', dataDir, '--format', 'json'],
      dir,
      env,
    );
    const lines = JSON.parse(logs.stdout) as Array<{ stream: string; text: string }>;
    expect(lines.map((l) => `${l.stream}: ${l.text}`)).toEqual(['stdout: valid']);
  });
});
