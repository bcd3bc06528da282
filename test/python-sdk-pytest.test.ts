/**
 * The Python SDK's own pytest suite (sdk/python/tests) and the Python hello-task sample's tests,
 * run from `npm test` so there is one test command: each is one pytest process in the tools
 * environment scripts/setup/python.sh made, against the SDK's source (src/ on the path, as
 * pyproject's pytest settings say). This fails when pytest fails, and shows pytest's report.
 * Then mypy --strict: the SDK and the sample type-check, and a task that misuses its typed
 * inputs does not (what sdk/package.test.ts shows for TypeScript).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { pythonTools, runPython } from './setup/python-tools.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const sdk = join(root, 'sdk', 'python');

async function pytest(dir: string, pythonPath?: string) {
  const ran = await runPython(
    pythonTools().bin('python'),
    ['-m', 'pytest', '-p', 'no:cacheprovider', '-rfE', dir],
    {
      cwd: dir,
      // No __pycache__ written into the source tree.
      env: { PYTHONDONTWRITEBYTECODE: '1', ...(pythonPath ? { PYTHONPATH: pythonPath } : {}) },
    },
  );
  return { ...ran, report: `${ran.stdout}\n${ran.stderr}` };
}

describe('the Python SDK under pytest', () => {
  it('sdk/python/tests pass', async () => {
    const run = await pytest(sdk);
    expect(run.code, run.report).toBe(0);
    expect(run.stdout).toMatch(/\b\d+ passed\b/);
    expect(run.stdout).not.toMatch(/\bskipped\b|\bfailed\b/);
  });

  it('mypy --strict accepts the SDK and the sample, and refuses a task that misuses its typed inputs', async () => {
    const mypy = (...files: string[]) =>
      runPython(
        pythonTools().bin('mypy'),
        ['--strict', '--no-incremental', '--cache-dir', '/dev/null', ...files],
        {
          cwd: root,
          env: { MYPYPATH: join(sdk, 'src') },
        },
      );
    const [clean, wrong] = await Promise.all([
      mypy(join(sdk, 'src', 'maestro_sdk'), join(root, 'examples', 'hello-task', 'python', 'task.py')),
      mypy(join(root, 'test', 'fixtures', 'python-sdk', 'wrong_types.py')),
    ]);
    expect(clean.code, clean.stdout).toBe(0);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain(
      'wrong_types.py:20: error: Incompatible types in assignment (expression has type "str", variable has type "int")',
    );
    expect(wrong.stdout).toContain(
      'wrong_types.py:21: error: Argument 1 to "log" of "Emit" has incompatible type "int"; expected "str"',
    );
  });

  it('the hello-task sample (examples/hello-task/python) passes its tests on the SDK', async () => {
    const run = await pytest(join(root, 'examples', 'hello-task', 'python'), join(sdk, 'src'));
    expect(run.code, run.report).toBe(0);
    expect(run.stdout).toMatch(/\b3 passed\b/);
  });
});
