/**
 * The Python SDK, the whole way a user takes it: built as a wheel (hatchling, through `build`),
 * published with twine to a local PyPI-compatible index (pypiserver, uploads need a password),
 * installed from that index alone into a fresh virtual environment with every file's hash
 * pinned, and run by `maestro run` on the local runner as the task of a workflow: the sample
 * examples/hello-task/python, its `.venv` beside it in the workflow's source (the runner copies
 * the source, the venv included, into the attempt's workspace; its interpreter is the system's
 * /usr/bin/python3, which the sandbox binds read-only with /usr).
 */
import {
  cpSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCaptured } from './cli-helpers.ts';
import { startPypiServer, type PypiServer } from './setup/pypi-server.ts';
import { pythonTools, runPython, SYSTEM_PYTHON, type Ran } from './setup/python-tools.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'maestro-py-e2e-'));
const tools = pythonTools();
const source = join(dir, 'src');
const env = { PATH: process.env.PATH, HOME: process.env.HOME };
let server: PypiServer;
let wheel: string;
let install: Ran;

const show = (r: Ran) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (c) => hash.update(c))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}

/** `name==version --hash=sha256:…` for each wheel: pip then installs exactly these files. */
async function pinned(wheels: string[]): Promise<string> {
  const lines = await Promise.all(
    wheels.map(async (file) => {
      const [name, version] = basename(file).split('-');
      return `${name}==${version} --hash=sha256:${await sha256(file)}`;
    }),
  );
  return `${lines.join('\n')}\n`;
}

function twine(file: string, password: string): Promise<Ran> {
  return runPython(
    tools.bin('twine'),
    [
      'upload',
      '--non-interactive',
      '--disable-progress-bar',
      '--repository-url',
      server.url,
      '--username',
      server.user,
      '--password',
      password,
      file,
    ],
    { env: { PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' } },
  );
}

/** pip (the tools') installing into `venv` from the local index alone, hashes required. */
function pipInstall(venv: string, requirements: string): Promise<Ran> {
  return runPython(tools.bin('python'), [
    '-m',
    'pip',
    '--python',
    join(venv, 'bin', 'python'),
    '--isolated',
    '--disable-pip-version-check',
    'install',
    '--no-cache-dir',
    '--only-binary',
    ':all:',
    '--index-url',
    server.simple,
    '--require-hashes',
    '-r',
    requirements,
  ]);
}

beforeAll(async () => {
  const dist = join(dir, 'dist');
  const built = await runPython(
    tools.bin('python'),
    ['-m', 'build', '--wheel', '--no-isolation', '--outdir', dist, join(root, 'sdk', 'python')],
    {
      env: { PYTHONDONTWRITEBYTECODE: '1' },
    },
  );
  expect(built.code, show(built)).toBe(0);
  wheel = join(
    dist,
    readdirSync(dist).find((f) => f.endsWith('.whl'))!,
  );
  server = await startPypiServer(join(dir, 'index'), [tools.wheelsDir]);
  const uploaded = await twine(wheel, server.password);
  expect(uploaded.code, show(uploaded)).toBe(0);
  cpSync(join(root, 'examples', 'hello-task', 'python'), source, {
    recursive: true,
    filter: (path) => !/(^|\/)(\.venv|__pycache__)(\/|$)/.test(path.slice(root.length)),
  });
  const venv = await runPython(SYSTEM_PYTHON, ['-m', 'venv', '--without-pip', join(source, '.venv')]);
  expect(venv.code, show(venv)).toBe(0);
  writeFileSync(join(dir, 'requirements.txt'), await pinned([wheel, ...tools.wheels()]));
  install = await pipInstall(join(source, '.venv'), join(dir, 'requirements.txt'));
  expect(install.code, show(install)).toBe(0);
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Shown {
  status: string;
  tasks: Array<{
    id: string;
    state: string;
    reason: string;
    attempts: Array<{ outputs: Record<string, string> }>;
  }>;
}

async function run(
  workflow: string,
): Promise<{ code: number; out: string; shown: Shown; logs: (task: string) => Promise<string[]> }> {
  const dataDir = mkdtempSync(join(dir, 'data-'));
  const ran = await runCaptured(['run', workflow, '--data-dir', dataDir], source, env);
  const list = await runCaptured(['runs', 'list', '--data-dir', dataDir, '--format', 'json'], source, env);
  const [{ id }] = JSON.parse(list.stdout) as [{ id: string }];
  const shown = JSON.parse(
    (await runCaptured(['runs', 'show', id, '--data-dir', dataDir, '--format', 'json'], source, env)).stdout,
  ) as Shown;
  const logs = async (task: string) => {
    const got = await runCaptured(
      ['runs', 'logs', id, '--task', task, '--data-dir', dataDir, '--format', 'json'],
      source,
      env,
    );
    return (JSON.parse(got.stdout) as Array<{ stream: string; text: string }>).map(
      (l) => `${l.stream}: ${l.text}`,
    );
  };
  return { code: ran.code, out: `${ran.stdout}\n${ran.stderr}`, shown, logs };
}

/** One task running task.py with these inputs (as MAESTRO_INPUTS), in its own workflow file. */
function workflow(name: string, inputs: object, extra = ''): string {
  const file = join(source, '.maestro', 'workflows', `${name}.yaml`);
  mkdirSync(join(source, '.maestro', 'workflows'), { recursive: true });
  writeFileSync(
    file,
    `apiVersion: maestro/v1
kind: Workflow
metadata: { name: ${name}, namespace: py }
spec:
  defaults: { runner: local }
  tasks:
    - id: hello
      run: MAESTRO_INPUTS='${JSON.stringify(inputs)}' exec .venv/bin/python task.py
${extra}`,
  );
  return file;
}

const task = (shown: Shown, id: string) => shown.tasks.find((t) => t.id === id)!;

describe('the Python SDK published to a local index and run by maestro run', () => {
  it('is published only with the password, and installed from that index alone', async () => {
    const refused = await twine(wheel, 'not-the-password');
    expect(refused.code).not.toBe(0);
    expect(`${refused.stdout}${refused.stderr}`).toMatch(/403|401|Forbidden|Unauthorized/i);
    expect(readdirSync(server.packagesDir)).toEqual([basename(wheel)]);
    expect(install.stdout).toContain(`Looking in indexes: ${server.simple}`);
    expect(install.stdout).toMatch(/Successfully installed .*summit_maestro_sdk-0\.1\.0/);
    // Imported from the fresh environment's own site-packages, not from this checkout.
    const where = await runPython(join(source, '.venv', 'bin', 'python'), [
      '-c',
      'import maestro_sdk, sysconfig; print(maestro_sdk.__file__); print(sysconfig.get_path("purelib"))',
    ]);
    const [file, purelib] = where.stdout.trim().split('\n');
    expect(purelib!.startsWith(join(source, '.venv'))).toBe(true);
    expect(file).toBe(join(purelib!, 'maestro_sdk', '__init__.py'));
  });

  it('runs the hello-task sample: typed outputs reach the next task, its log lines arrive', async () => {
    const { code, out, shown, logs } = await run(join(source, '.maestro', 'workflows', 'hello.yaml'));
    expect(code, out).toBe(0);
    expect(shown.status).toBe('succeeded');
    // count is an int in Python: on the wire, as every output, its JSON text.
    expect(task(shown, 'greet').attempts.at(-1)!.outputs).toEqual({ greeting: 'hello Ada', count: '2' });
    expect(out).toContain('hello Ada, 2 times!');
    // Through the messages file: log lines on stdout, the rest recorded by the runner.
    expect(await logs('greet')).toEqual(
      expect.arrayContaining([
        'stdout: hello Ada (1/2)',
        'stdout: hello Ada (2/2)',
        'system: metric greetings=2',
        'system: messages: 2 heartbeat(s) received',
        expect.stringMatching(/^system: state checkpoint .*\{"greeted":2\}\)$/),
      ]),
    );
  });

  it('fails a run whose inputs do not match the spec, naming every field', async () => {
    const { code, shown, logs } = await run(workflow('invalid', { who: 5, times: 0 }));
    expect(code).not.toBe(0);
    expect(task(shown, 'hello').state).toBe('failed');
    expect(task(shown, 'hello').attempts.at(-1)).toMatchObject({ exitCode: 2, outputs: {} });
    expect(await logs('hello')).toEqual([
      "stderr: hello: invalid inputs: /times: 0 is less than the minimum of 1; /who: 5 is not of type 'string'",
    ]);
  });

  it('cancels the task on its timeout: SIGTERM ends its pause at once, after its checkpoint', async () => {
    const { code, shown, logs } = await run(
      workflow('slow', { who: 'Ada', times: 5, pause: 600 }, '      timeout: 5s\n'),
    );
    expect(code).not.toBe(0);
    expect(task(shown, 'hello').state).toBe('timed_out');
    // 143: the SDK caught SIGTERM and exited itself, within the grace (a SIGKILL would be 137).
    expect(task(shown, 'hello').attempts.at(-1)).toMatchObject({ exitCode: 143, reason: 'DeadlineExceeded' });
    const lines = await logs('hello');
    expect(lines).toEqual(
      expect.arrayContaining([
        'stdout: hello Ada (1/5)',
        'stderr: hello [cancelled]: hello was asked to stop (SIGTERM)',
        expect.stringMatching(/^system: state checkpoint .*\{"greeted":1\}\)$/),
      ]),
    );
    expect(lines).not.toContain('stdout: hello Ada (2/5)');
  });

  it('a wheel swapped on the index is refused by the pinned hashes (installed without them, it runs)', async () => {
    const published = join(server.packagesDir, basename(wheel));
    const original = readFileSync(published);
    // The attacker's wheel: the same name and version, one module more, which the SDK imports.
    const tamper = await runPython(tools.bin('python'), [
      '-c',
      [
        'import sys, zipfile',
        'src, dst = sys.argv[1], sys.argv[2]',
        'with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w") as b:',
        '    for item in a.infolist():',
        '        data = a.read(item)',
        '        if item.filename == "maestro_sdk/__init__.py": data += b"\\nfrom . import _planted\\n"',
        '        b.writestr(item, data)',
        '    b.writestr("maestro_sdk/_planted.py", "PLANTED = True\\n")',
      ].join('\n'),
      wheel,
      published,
    ]);
    expect(tamper.code, show(tamper)).toBe(0);
    try {
      const pinnedVenv = join(dir, 'venv-pinned');
      const openVenv = join(dir, 'venv-open');
      for (const venv of [pinnedVenv, openVenv])
        expect((await runPython(SYSTEM_PYTHON, ['-m', 'venv', '--without-pip', venv])).code).toBe(0);
      const refused = await pipInstall(pinnedVenv, join(dir, 'requirements.txt'));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain('THESE PACKAGES DO NOT MATCH THE HASHES');
      // The attack, shown: the same install without the hashes takes the planted module.
      writeFileSync(
        join(dir, 'unpinned.txt'),
        (await pinned([wheel, ...tools.wheels()])).replace(/ --hash=\S+/g, ''),
      );
      const taken = await runPython(tools.bin('python'), [
        '-m',
        'pip',
        '--python',
        join(openVenv, 'bin', 'python'),
        '--isolated',
        'install',
        '--no-cache-dir',
        '--index-url',
        server.simple,
        '-r',
        join(dir, 'unpinned.txt'),
      ]);
      expect(taken.code, show(taken)).toBe(0);
      const planted = await runPython(join(openVenv, 'bin', 'python'), [
        '-c',
        'import maestro_sdk; print(maestro_sdk._planted.PLANTED)',
      ]);
      expect(planted.stdout.trim()).toBe('True');
    } finally {
      writeFileSync(published, original);
    }
  });
});
