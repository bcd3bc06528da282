/**
 * The connector skeleton (examples/connector-skeleton), both languages, the way a user takes it:
 * its folder copied into a repository of its own and its workflow run by `maestro run` on the
 * local runner: check, discover and read as three operations of one repository task, the token
 * from a secret through `configSecrets`, the records file kept as an artifact. The TypeScript one
 * also passes `maestro tasks test`, and a read that fails on its first attempt is retried from
 * its last checkpoint; the Python one runs with the SDK built as a wheel and installed into a
 * fresh virtual environment the runner's PATH names (as test/python-sdk-e2e.test.ts does).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { git } from './github-standin/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { runCaptured } from './cli-helpers.ts';
import { pythonTools, runPython, SYSTEM_PYTHON } from './setup/python-tools.ts';

const root = resolve(import.meta.dirname, '..');
const sample = (lang: string) => join(root, 'examples', 'connector-skeleton', lang);
const taskDir = (dir: string) => join(dir, '.maestro', 'tasks', 'users-source');
const TOKEN = 'demo-token';

interface Shown {
  status: string;
  tasks: Array<{
    id: string;
    state: string;
    attempts: Array<{ outcome: string; exitCode?: number; outputs: Record<string, string> }>;
  }>;
}

/** The sample copied into a repository of its own (a git one, committed, unless `plain`). */
function repoOf(lang: string, plain = false): string {
  const dir = join(tempDir('maestro-connector-'), 'repo');
  cpSync(sample(lang), dir, {
    recursive: true,
    filter: (path) => !/(^|\/)(\.venv|__pycache__)(\/|$)/.test(path),
  });
  if (!plain) commit(dir);
  return dir;
}

function commit(dir: string): void {
  git(dir, ['init', '-q', '--initial-branch', 'main']);
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'c']);
}

async function runSync(dir: string, env: Record<string, string | undefined>, workflow = 'sync-users.yaml') {
  const dataDir = mkdtempSync(join(dir, '..', 'data-'));
  const all = { HOME: dir, MAESTRO_PROVENANCE: 'off', MAESTRO_SECRET_USERS_TOKEN: TOKEN, ...env };
  const ran = await runCaptured(['run', `.maestro/workflows/${workflow}`, '--data-dir', dataDir], dir, all);
  const id = /run (r-\S+) /.exec(ran.stdout)![1]!;
  const show = await runCaptured(['runs', 'show', id, '--data-dir', dataDir, '--format', 'json'], dir, all);
  const logs = await runCaptured(['runs', 'logs', id, '--data-dir', dataDir], dir, all);
  const shown = JSON.parse(show.stdout) as Shown;
  const task = (name: string) => shown.tasks.find((t) => t.id === name)!;
  return { code: ran.code, out: `${ran.stdout}\n${ran.stderr}`, shown, task, logs: logs.stdout };
}

function expectSynced(result: Awaited<ReturnType<typeof runSync>>): void {
  expect(result.code, result.out).toBe(0);
  expect(result.task('check').attempts.at(-1)!.outputs).toEqual({
    status: 'succeeded',
    message: 'connected as demo',
  });
  const catalog = JSON.parse(result.task('discover').attempts.at(-1)!.outputs.catalog!) as {
    streams: Array<{ name: string; default_cursor_field: string[] }>;
  };
  expect(catalog.streams).toMatchObject([{ name: 'users', default_cursor_field: ['id'] }]);
  expect(result.task('read').attempts.at(-1)!.outputs).toEqual({
    records: '120',
    recordsFile: 'out/users.ndjson',
    streams: '{"users":120}',
  });
  expect(result.logs).toContain('read 120 users (streams {"users":120})');
  expect(result.logs).not.toContain(TOKEN);
}

const PATH = process.env.PATH ?? '/usr/bin:/bin';

describe('examples/connector-skeleton/typescript', () => {
  it("task.json's inputs are the connector's own, and the same as the Python one's", () => {
    const printed = execFileSync(
      process.execPath,
      [
        '--import',
        join(root, 'sdk', 'register.ts'),
        '--input-type=module',
        '-e',
        `const { usersSource } = await import(${JSON.stringify(join(taskDir(sample('typescript')), 'index.ts'))});
         console.log(JSON.stringify(usersSource.spec.inputs));`,
      ],
      { encoding: 'utf8' },
    );
    const read = (lang: string) =>
      (JSON.parse(readFileSync(join(taskDir(sample(lang)), 'task.json'), 'utf8')) as { inputs: unknown })
        .inputs;
    expect(read('typescript')).toEqual(JSON.parse(printed));
    expect(read('python')).toEqual(read('typescript'));
  });

  it('passes its examples (maestro tasks test)', async () => {
    const result = await runCaptured(
      ['tasks', 'test', taskDir(sample('typescript')), '--format', 'json'],
      root,
      { PATH },
    );
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ task: 'users-source', passed: 5, failed: 0 });
  }, 60_000);

  it('runs check, discover and read with maestro run; the token never in a log', async () => {
    expectSynced(await runSync(repoOf('typescript'), { PATH }));
  }, 120_000);

  it('a read whose API fails on its first attempt is retried from its last checkpoint', async () => {
    const dir = repoOf('typescript', true);
    const users = Array.from({ length: 1000 }, (_, i) => ({
      id: i + 1,
      name: `user ${i + 1}`,
      updated_at: '',
    }));
    writeFileSync(join(dir, 'data', 'users.json'), JSON.stringify({ users }));
    // The peer goes away on the first attempt at the page after user 500 (checkpointed).
    const api = join(taskDir(dir), 'fake-api.ts');
    writeFileSync(
      api,
      readFileSync(api, 'utf8').replace(
        'this.whoami();',
        "this.whoami();\n      if (process.env.MAESTRO_ATTEMPT === '1' && after >= 500) throw new ApiError('the API went away');",
      ),
    );
    commit(dir);
    const result = await runSync(dir, { PATH });
    expect(result.code, result.out).toBe(0);
    const read = result.task('read').attempts;
    expect(read.map((a) => a.outcome)).toEqual(['failed', 'succeeded']);
    // The retry read the users after the checkpoint only: 501..1000.
    expect(read[1]!.outputs).toMatchObject({ records: '500', streams: '{"users":500}' });
    expect(result.logs).toContain('reading users after id 500');
    // Each attempt has a fresh workspace here: the retry's records file starts anew.
    expect(result.logs).toContain('out/users.ndjson starts anew');
    expect(result.logs).toContain('starting from the checkpoint of an earlier attempt');
  }, 120_000);

  it('refuses the token written into with: (stored with the plan), before the connector runs', async () => {
    const dir = repoOf('typescript', true);
    const file = join(dir, '.maestro', 'workflows', 'inline.yaml');
    writeFileSync(
      file,
      readFileSync(join(dir, '.maestro', 'workflows', 'sync-users.yaml'), 'utf8')
        .replace('name: sync-users', 'name: inline')
        .replace('config: { file: data/users.json }', `config: { file: data/users.json, token: ${TOKEN} }`),
    );
    commit(dir);
    const result = await runSync(dir, { PATH }, 'inline.yaml');
    expect(result.code).not.toBe(0);
    expect(result.task('check').attempts.at(-1)).toMatchObject({ outcome: 'failed', exitCode: 2 });
    expect(result.logs).toContain('/config/token: is a secret (airbyte_secret): never in with:');
  }, 120_000);
});

describe('examples/connector-skeleton/python', () => {
  it('passes its pytest tests on the SDK', async () => {
    const ran = await runPython(
      pythonTools().bin('python'),
      ['-m', 'pytest', '-p', 'no:cacheprovider', '-q', '.'],
      {
        cwd: taskDir(sample('python')),
        env: { PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: join(root, 'sdk', 'python', 'src') },
      },
    );
    expect(ran.code, `${ran.stdout}\n${ran.stderr}`).toBe(0);
    expect(ran.stdout).toMatch(/\b3 passed\b/);
  }, 60_000);

  it('runs check, discover and read with maestro run, the SDK installed from its wheel into the PATH’s venv', async () => {
    const tools = pythonTools();
    const dir = repoOf('python', true);
    const dist = mkdtempSync(join(dir, '..', 'dist-'));
    const built = await runPython(
      tools.bin('python'),
      ['-m', 'build', '--wheel', '--no-isolation', '--outdir', dist, join(root, 'sdk', 'python')],
      { env: { PYTHONDONTWRITEBYTECODE: '1' } },
    );
    expect(built.code, built.stderr).toBe(0);
    // The venv inside the source, so the local runner's sandbox (which sees the workspace and
    // /usr) sees it; made with the system's Python, which is inside the sandbox too.
    expect((await runPython(SYSTEM_PYTHON, ['-m', 'venv', '--without-pip', join(dir, '.venv')])).code).toBe(
      0,
    );
    const wheel = join(
      dist,
      readdirSync(dist).find((f) => f.endsWith('.whl'))!,
    );
    const installed = await runPython(tools.bin('python'), [
      '-m',
      'pip',
      '--python',
      join(dir, '.venv', 'bin', 'python'),
      '--isolated',
      '--disable-pip-version-check',
      'install',
      '--no-cache-dir',
      '--no-index',
      '--find-links',
      tools.wheelsDir,
      wheel,
    ]);
    expect(installed.code, installed.stderr).toBe(0);
    // task.json names `python3`: the runner finds it on its PATH, here the venv's (relative to
    // the attempt's workspace, which holds the copied source and its .venv).
    expectSynced(await runSync(dir, { PATH: '.venv/bin:/usr/bin:/bin' }));
  }, 180_000);
});
