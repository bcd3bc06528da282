/**
 * `maestro tasks test <dir>`: a task's examples/*.json run through the SDK's in-process harness.
 * The sample (examples/hello-task/typescript) passes; a copy whose example expects another output
 * fails with exit 1 naming the output and both values; a folder without examples is a usage error.
 */
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/engine-fixtures.ts';
import { runCaptured } from './cli-helpers.ts';

const sample = resolve('examples/hello-task/typescript');
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

describe('maestro tasks test <dir>', () => {
  it('runs the sample task’s examples and passes', async () => {
    const result = await runCaptured(['tasks', 'test', sample, '--format', 'json'], process.cwd(), env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      task: 'hello',
      passed: 2,
      failed: 0,
      results: [
        { example: 'examples/greets-twice.json', ok: true },
        { example: 'examples/refuses-an-empty-name.json', ok: true },
      ],
    });
  }, 60_000);

  it('fails (exit 1) an example whose output differs, naming it; no examples is a usage error', async () => {
    const dir = join(tempDir('maestro-tasks-test-'), 'hello');
    cpSync(sample, dir, { recursive: true });
    writeFileSync(
      join(dir, 'examples', 'greets-twice.json'),
      JSON.stringify({ inputs: { name: 'Ada', times: 2 }, expect: { outputs: { count: 3 } } }),
    );
    const failed = await runCaptured(['tasks', 'test', dir], process.cwd(), env);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain('FAIL  examples/greets-twice.json');
    expect(failed.stdout).toContain('outputs.count: expected 3, got 2');
    expect(failed.stdout).toContain('hello: 1 passed, 1 failed');

    rmSync(join(dir, 'examples'), { recursive: true });
    const none = await runCaptured(['tasks', 'test', dir], process.cwd(), env);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('holds no *.json examples');
  }, 60_000);
});
