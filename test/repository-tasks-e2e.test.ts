/**
 * A repository's own tasks (`uses: ./.maestro/tasks/<name>`), end to end through `maestro`:
 * a TypeScript task on the SDK in a real git repository, run by `maestro run`, its typed outputs
 * reaching the next task; `with:` checked against its task.json at compile time, with the
 * problem at the line; its code digest covering its whole folder; and the two ways out of the
 * repository (a `..` path, a symlinked folder) refused before anything runs.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { git } from './github-standin/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { runCaptured } from './cli-helpers.ts';
import { dump } from 'js-yaml';

/** The built-in http task's version, from its task.json (what `tasks list` and `tasks show` report). */
const HTTP_VERSION = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'tasks', 'http', 'task.json'), 'utf8')) as {
    version: string;
  }
).version;

const TASK_JSON = {
  name: 'release-notes',
  version: '1.0.0',
  description: 'Titles a release and counts its items.',
  inputs: {
    type: 'object',
    required: ['version', 'items'],
    additionalProperties: false,
    properties: { version: { type: 'string' }, items: { type: 'integer', minimum: 1 } },
  },
  outputs: ['title', 'count'],
};

const TASK_TS = `import { defineTask, runMain } from '@summit-maestro/sdk';
import { double } from './lib/double.ts';

export const notes = defineTask({
  name: 'release-notes',
  version: '1.0.0',
  spec: {
    inputs: ${JSON.stringify(TASK_JSON.inputs)},
    outputs: {
      type: 'object',
      required: ['title', 'count'],
      properties: { title: { type: 'string' }, count: { type: 'integer' } },
    },
  },
  async execute(inputs, ctx) {
    ctx.emit.log('titling ' + inputs.version);
    return { title: 'Release ' + inputs.version, count: double(inputs.items) };
  },
} as const);

if (import.meta.main) await runMain(notes, process.env);
`;

function workflow(tasks: string): string {
  return `apiVersion: maestro/v1
kind: Workflow
metadata: { name: notes, namespace: demo }
spec:
  defaults: { runner: local, retry: { limit: 0 } }
  tasks:
${tasks}`;
}

const GOOD = workflow(`    - id: notes
      uses: ./.maestro/tasks/release-notes
      with: { version: "1.2.3", items: 3 }
    - id: show
      run: echo "got \${tasks.notes.outputs.title} count=\${tasks.notes.outputs.count}"
`);

function commitAll(dir: string): void {
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'c']);
}

function makeRepo(files: Record<string, string>): string {
  const dir = tempDir('maestro-repo-task-');
  git(dir, ['init', '-q', '--initial-branch', 'main']);
  const all: Record<string, string> = {
    '.maestro/tasks/release-notes/task.json': JSON.stringify(TASK_JSON, null, 2),
    '.maestro/tasks/release-notes/index.ts': TASK_TS,
    '.maestro/tasks/release-notes/lib/double.ts': 'export const double = (n: number): number => n * 2;\n',
    ...files,
  };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  commitAll(dir);
  return dir;
}

const env = (dir: string) => ({ PATH: process.env.PATH, HOME: dir, MAESTRO_PROVENANCE: 'off' });

async function validate(dir: string) {
  const result = await runCaptured(['validate', '.', '--format', 'json'], dir, env(dir));
  const report = JSON.parse(result.stdout) as {
    files: { diagnostics: { code: string; line: number; message: string; hint?: string }[] }[];
  };
  return { code: result.code, diagnostics: report.files.flatMap((f) => f.diagnostics) };
}

describe('uses: ./.maestro/tasks/<name>', () => {
  it('maestro run runs a repository TypeScript task on the SDK; its typed outputs reach the next task', async () => {
    const dir = makeRepo({ '.maestro/workflows/notes.yaml': GOOD });
    const dataDir = join(dir, '..', 'data-' + Date.now());
    const run = await runCaptured(
      ['run', '.maestro/workflows/notes.yaml', '--data-dir', dataDir],
      dir,
      env(dir),
    );
    expect(run.stderr).not.toMatch(/error/i);
    expect(run.code).toBe(0);
    const runId = /run (r-\S+) /.exec(run.stdout)![1]!;
    const logs = await runCaptured(['runs', 'logs', runId, '--data-dir', dataDir], dir, env(dir));
    expect(logs.stdout).toContain('titling 1.2.3');
    expect(logs.stdout).toContain('got Release 1.2.3 count=6');
  }, 60_000);

  it('runs a Python repository task with the interpreter its task.json names', async () => {
    const py = `import json, os
inputs = json.loads(os.environ["MAESTRO_INPUTS"])
with open(os.environ["MAESTRO_OUTPUT"], "a") as out:
    out.write("greeting=hello " + inputs["who"] + "\\n")
`;
    const dir = makeRepo({
      '.maestro/tasks/greet/task.json': JSON.stringify({
        name: 'greet',
        version: '0.1.0',
        description: 'greets',
        inputs: { type: 'object', required: ['who'], properties: { who: { type: 'string' } } },
        outputs: ['greeting'],
        entry: 'main.py',
        python: 'python3',
      }),
      '.maestro/tasks/greet/main.py': py,
      '.maestro/workflows/notes.yaml': workflow(`    - id: greet
      uses: ./.maestro/tasks/greet
      with: { who: Ada }
    - id: show
      run: echo "said \${tasks.greet.outputs.greeting}"
`),
    });
    // The system's python3: a PATH of the host's (a pyenv shim under /root) is not in the sandbox.
    const pyEnv = { ...env(dir), PATH: '/usr/bin:/bin' };
    const dataDir = join(dir, '..', 'data-py-' + Date.now());
    const run = await runCaptured(
      ['run', '.maestro/workflows/notes.yaml', '--data-dir', dataDir],
      dir,
      pyEnv,
    );
    expect(run.code).toBe(0);
    const runId = /run (r-\S+) /.exec(run.stdout)![1]!;
    const logs = await runCaptured(['runs', 'logs', runId, '--data-dir', dataDir], dir, pyEnv);
    expect(logs.stdout).toContain('said hello Ada');
  }, 60_000);

  it("the receipt of the task's attempt names the folder's digest as its task code", async () => {
    const dir = makeRepo({ '.maestro/workflows/notes.yaml': GOOD });
    const compiled = await runCaptured(['compile', '.maestro/workflows/notes.yaml'], dir, env(dir));
    const plan = JSON.parse(compiled.stdout) as { tasks: { id: string; action: { digest: string } }[] };
    const digest = plan.tasks.find((t) => t.id === 'notes')!.action.digest;
    const dataDir = join(dir, '..', 'data-prov-' + Date.now());
    const withProvenance = { PATH: process.env.PATH, HOME: dir };
    const run = await runCaptured(
      ['run', '.maestro/workflows/notes.yaml', '--data-dir', dataDir],
      dir,
      withProvenance,
    );
    expect(run.code).toBe(0);
    const runId = /run (r-\S+) /.exec(run.stdout)![1]!;
    const out = join(dir, '..', 'receipts-' + Date.now());
    const listed = await runCaptured(
      ['receipts', runId, '--data-dir', dataDir, '-o', out],
      dir,
      withProvenance,
    );
    expect(listed.code).toBe(0);
    const statements = readdirSync(out, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as { dsseEnvelope?: { payload: string } })
      .filter((b) => b.dsseEnvelope)
      .map((b) => Buffer.from(b.dsseEnvelope!.payload, 'base64').toString('utf8'));
    const taskCode = statements.filter((s) => s.includes('"task-code"'));
    expect(taskCode).toHaveLength(1);
    expect(taskCode[0]).toContain(digest.slice('sha256:'.length));
  }, 90_000);

  it('refuses to run a repository task whose folder differs from the commit the run starts from', async () => {
    // Compiled from the working tree, run from HEAD: the digest would describe code that never runs.
    const dir = makeRepo({ '.maestro/workflows/notes.yaml': GOOD });
    writeFileSync(
      join(dir, '.maestro/tasks/release-notes/lib/double.ts'),
      'export const double = () => 0;\n',
    );
    writeFileSync(join(dir, '.maestro/tasks/release-notes/lib/new.ts'), 'export {};\n');
    const run = await runCaptured(
      ['run', '.maestro/workflows/notes.yaml', '--data-dir', join(dir, '..', 'd-' + Date.now())],
      dir,
      env(dir),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the repository tasks differ from the commit the run starts from');
    expect(run.stderr).toContain('.maestro/tasks/release-notes/lib/double.ts');
    expect(run.stderr).toContain('.maestro/tasks/release-notes/lib/new.ts');
    expect(run.stdout).not.toMatch(/run r-/);
  }, 60_000);

  it('the code digest covers the whole folder (a helper file, not only the entry)', async () => {
    const dir = makeRepo({ '.maestro/workflows/notes.yaml': GOOD });
    const digestOf = async () => {
      const out = await runCaptured(['compile', '.maestro/workflows/notes.yaml'], dir, env(dir));
      expect(out.code).toBe(0);
      const plan = JSON.parse(out.stdout) as { tasks: { id: string; action: Record<string, string> }[] };
      return plan.tasks.find((t) => t.id === 'notes')!.action;
    };
    const before = await digestOf();
    expect(before).toMatchObject({
      type: 'catalog',
      name: './.maestro/tasks/release-notes',
      version: '1.0.0',
      entry: '.maestro/tasks/release-notes/index.ts',
    });
    writeFileSync(
      join(dir, '.maestro/tasks/release-notes/lib/double.ts'),
      'export const double = (n: number) => n + n;\n',
    );
    const after = await digestOf();
    expect(after.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(after.digest).not.toBe(before.digest);
  }, 60_000);

  it('checks with: against the task.json at the with: line, and names a missing folder or a bad task.json', async () => {
    const dir = makeRepo({
      '.maestro/tasks/broken/task.json': '{ "name": "broken", ',
      '.maestro/workflows/notes.yaml': workflow(`    - id: typo
      uses: ./.maestro/tasks/release-notes
      with: { version: "1.2.3", items: 3, colour: red }
    - id: absent
      uses: ./.maestro/tasks/nowhere
    - id: broken
      uses: ./.maestro/tasks/broken
`),
    });
    const { code, diagnostics } = await validate(dir);
    expect(code).toBe(1);
    const byCode = (c: string) => diagnostics.filter((d) => d.code === c);
    expect(byCode('MS4004')).toHaveLength(1);
    expect(byCode('MS4004')[0]!.line).toBe(9);
    expect(byCode('MS4004')[0]!.message).toContain('colour');
    expect(byCode('MS4008')[0]).toMatchObject({ line: 11 });
    expect(byCode('MS4008')[0]!.message).toContain('.maestro/tasks/nowhere');
    expect(byCode('MS4009')[0]).toMatchObject({ line: 13 });
    expect(byCode('MS4009')[0]!.message).toMatch(/\.maestro\/tasks\/broken\/task\.json is not valid JSON/);
  }, 60_000);

  it('refuses a path out of .maestro/tasks (..), before any lookup', async () => {
    const dir = makeRepo({
      '.maestro/workflows/notes.yaml': workflow(`    - id: escape
      uses: ./.maestro/tasks/../../etc
`),
    });
    const { diagnostics } = await validate(dir);
    expect(diagnostics.map((d) => d.code)).toEqual(['MS4007']);
    const run = await runCaptured(
      ['run', '.maestro/workflows/notes.yaml', '--data-dir', join(dir, '.d')],
      dir,
      env(dir),
    );
    expect(run.code).toBe(1);
    expect(run.stdout).not.toMatch(/run r-/);
  }, 60_000);

  it('refuses a task folder that is a symbolic link out of the repository, and never runs it', async () => {
    // The link's target is a complete, valid task: only the link check stands in the way.
    const outside = tempDir('maestro-outside-task-');
    writeFileSync(join(outside, 'task.json'), JSON.stringify({ ...TASK_JSON, name: 'evil' }));
    writeFileSync(join(outside, 'index.ts'), 'console.log("EVIL RAN");\n');
    const dir = makeRepo({
      '.maestro/workflows/notes.yaml': workflow(`    - id: evil
      uses: ./.maestro/tasks/evil
      with: { version: "1", items: 1 }
`),
    });
    symlinkSync(outside, join(dir, '.maestro/tasks/evil'));
    commitAll(dir);
    const { diagnostics } = await validate(dir);
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'MS4009', line: 8 });
    expect(diagnostics[0]!.message).toContain('is a symbolic link');
    const run = await runCaptured(
      ['run', '.maestro/workflows/notes.yaml', '--data-dir', join(dir, '.d')],
      dir,
      env(dir),
    );
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).not.toContain('EVIL RAN');
    expect(run.stdout).not.toMatch(/run r-/);
  }, 60_000);

  it('refuses a symbolic link inside a task folder', async () => {
    const dir = makeRepo({ '.maestro/workflows/notes.yaml': GOOD });
    symlinkSync('/etc/passwd', join(dir, '.maestro/tasks/release-notes/lib/passwd'));
    const { diagnostics } = await validate(dir);
    // (and the next task's references to its outputs, which are then unknown: MS3004)
    expect(diagnostics[0]).toMatchObject({ code: 'MS4009', line: 8 });
    expect(diagnostics[0]!.message).toContain('lib/passwd is a symbolic link');
  }, 60_000);
});

describe('maestro tasks list / show', () => {
  it('lists the built-in tasks and the repository’s own, with versions, summary and support tier', async () => {
    const dir = makeRepo({ '.maestro/tasks/broken/task.json': '[]' });
    mkdirSync(join(dir, 'sub'));
    const result = await runCaptured(['tasks', 'list', '--format', 'json'], join(dir, 'sub'), env(dir));
    expect(result.code).toBe(0);
    const { tasks } = JSON.parse(result.stdout) as { tasks: Record<string, unknown>[] };
    expect(tasks).toContainEqual({
      uses: 'tasks/http@1',
      name: 'http',
      versions: [HTTP_VERSION],
      summary: expect.stringContaining('HTTP request'),
      support: 'core',
      source: 'builtin',
    });
    expect(tasks).toContainEqual({
      uses: './.maestro/tasks/release-notes',
      name: 'release-notes',
      versions: ['1.0.0'],
      summary: TASK_JSON.description,
      support: 'repository',
      source: 'repository',
    });
    expect(tasks.find((t) => t.name === 'broken')?.problem).toContain('must hold a JSON object');
    const text = await runCaptured(['tasks', 'list', '--source', dir], '/', env(dir));
    expect(text.stdout).toMatch(
      /\.\/\.maestro\/tasks\/release-notes\s+1\.0\.0\s+repository\s+Titles a release/,
    );
  }, 60_000);

  it('shows a task’s inputs and outputs with types, and an example that compiles', async () => {
    const dir = makeRepo({});
    const shown = await runCaptured(['tasks', 'show', './.maestro/tasks/release-notes'], dir, env(dir));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/version\s+string\s+required/);
    expect(shown.stdout).toMatch(/items\s+integer\s+required/);
    expect(shown.stdout).toContain('title, count');
    const json = await runCaptured(
      ['tasks', 'show', './.maestro/tasks/release-notes', '--format', 'json'],
      dir,
      env(dir),
    );
    const described = JSON.parse(json.stdout) as { example: unknown; spec: { inputs: unknown } };
    expect(described.spec.inputs).toEqual(TASK_JSON.inputs);
    // The example is a task a manifest can hold: it compiles (with: satisfies the schema).
    writeFileSync(
      join(dir, '.maestro', 'example.yaml'),
      workflow(dump([described.example]).replace(/^/gm, '    ')),
    );
    const compiled = await runCaptured(['compile', '.maestro/example.yaml'], dir, env(dir));
    expect(compiled.stderr).toBe('');
    expect(compiled.code).toBe(0);
    const builtin = await runCaptured(['tasks', 'show', 'http@1', '--format', 'json'], dir, env(dir));
    expect(JSON.parse(builtin.stdout)).toMatchObject({
      uses: 'tasks/http@1',
      version: HTTP_VERSION,
      outputs: ['status', 'bodyDigest'],
    });
    const missing = await runCaptured(['tasks', 'show', 'nope'], dir, env(dir));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('release-notes');
  }, 60_000);
});
