/**
 * A locked catalog task on the SDK runs the SDK of the Maestro that runs it (`node --import
 * sdk/register`: `@summit-maestro/sdk` resolves to that install's sdk/, the catalog ships none),
 * so its code digest (in `.maestro/tasks.lock`, the plan and the receipt) covers that SDK too.
 * Proved with two real Maestros: this checkout, and a copy of it whose sdk/ differs by one byte.
 * The lock made by one is refused by the other's engine before the task runs (the code would not
 * be what the lock pinned), its `tasks lock --check` calls the lock stale, and the copy's own lock
 * has another digest, which its receipt names as the task's code.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { git } from './github-standin/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { runCaptured } from './cli-helpers.ts';
import { packageDigest } from '../core/index.ts';
import { taskDigestOfFolder } from '../tasks/index.ts';

const checkout = resolve(import.meta.dirname, '..');
/** What a Maestro needs to run from source (tests, docs and bundles are not). */
const LEFT_OUT = new Set(['node_modules', '.git', '.cache', 'test', 'docs', 'action', 'bench', 'examples']);

/**
 * The packages the SDK imports at run time (ajv and its dependencies): copied, because a task's
 * sandbox sees the installation's folder only, not what its links point at.
 */
const SDK_PACKAGES = new Set([
  'ajv',
  'fast-deep-equal',
  'fast-uri',
  'json-schema-traverse',
  'require-from-string',
]);

/** A copy of this checkout's Maestro whose SDK has one byte more (a line end); other packages linked. */
function maestroWithChangedSdk(): string {
  const root = tempDir('maestro-copy-');
  for (const name of readdirSync(checkout))
    if (!LEFT_OUT.has(name)) cpSync(join(checkout, name), join(root, name), { recursive: true });
  const modules = join(checkout, 'node_modules');
  mkdirSync(join(root, 'node_modules'));
  for (const name of readdirSync(modules))
    if (SDK_PACKAGES.has(name))
      cpSync(join(modules, name), join(root, 'node_modules', name), { recursive: true });
    else symlinkSync(join(modules, name), join(root, 'node_modules', name));
  const file = join(root, 'sdk', 'define-task.ts');
  writeFileSync(file, `${readFileSync(file, 'utf8')}\n`);
  return root;
}

/** `maestro <args>` of another install, as a user runs it: its own process. */
function runOther(
  install: string,
  args: string[],
  cwd: string,
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(install, 'bin', 'maestro.ts'), ...args], { cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}

const TASK_JSON = {
  name: 'greet',
  version: '1.0.0',
  description: 'Greets someone.',
  inputs: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
  outputs: ['greeting'],
};

const TASK_TS = `import { defineTask, runMain } from '@summit-maestro/sdk';

export const greet = defineTask({
  name: 'greet',
  version: '1.0.0',
  spec: {
    inputs: ${JSON.stringify(TASK_JSON.inputs)},
    outputs: { type: 'object', required: ['greeting'], properties: { greeting: { type: 'string' } } },
  },
  async execute(inputs, ctx) {
    ctx.emit.log('greeting from the catalog');
    return { greeting: 'hello ' + inputs.name };
  },
} as const);

if (import.meta.main) await runMain(greet, process.env);
`;

const WORKFLOW = `apiVersion: maestro/v1
kind: Workflow
metadata: { name: greet, namespace: demo }
spec:
  defaults: { runner: local, retry: { limit: 0 } }
  tasks:
    - id: hello
      uses: acme/greet@1
      with: { name: Ada }
`;

function write(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
}

function commitAll(dir: string): void {
  git(dir, ['add', '-A']);
  git(dir, ['-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'c']);
}

function setUp(): { catalogTask: string; repo: string } {
  const root = tempDir('maestro-sdk-digest-');
  const work = join(root, 'catalog');
  mkdirSync(work);
  git(work, ['init', '-q', '--initial-branch', 'main']);
  write(work, { 'greet/task.json': JSON.stringify(TASK_JSON), 'greet/index.ts': TASK_TS });
  commitAll(work);
  git(work, ['tag', 'v1']);
  const bare = join(root, 'catalog.git');
  git(root, ['clone', '-q', '--bare', work, bare]);
  const repo = join(root, 'repo');
  mkdirSync(repo);
  git(repo, ['init', '-q', '--initial-branch', 'main']);
  write(repo, {
    '.maestro/catalogs.yaml': `catalogs:\n  acme: { url: "file://${bare}", ref: v1 }\n`,
    '.maestro/workflows/greet.yaml': WORKFLOW,
  });
  commitAll(repo);
  return { catalogTask: join(work, 'greet'), repo };
}

const lockedDigest = (repo: string) =>
  (
    JSON.parse(readFileSync(join(repo, '.maestro/tasks.lock'), 'utf8')) as {
      tasks: Record<string, { digest: string }>;
    }
  ).tasks['acme/greet']!.digest;

describe("a locked catalog task's digest covers the SDK it runs with", () => {
  it('another SDK: another digest, the old lock refused before the task runs, the receipt naming the new one', async () => {
    const { catalogTask, repo } = setUp();
    const env = { PATH: process.env.PATH, HOME: repo };
    const dataDir = join(repo, '..', 'data');

    const locked = await runCaptured(['tasks', 'lock', '--data-dir', dataDir], repo, env);
    expect(locked.stderr).toBe('');
    const digest = lockedDigest(repo);
    // Not the folder's bytes alone: the folder and this Maestro's SDK.
    expect(digest).not.toBe(await packageDigest(catalogTask));
    expect(digest).toBe(await taskDigestOfFolder(catalogTask));
    commitAll(repo);

    const other = maestroWithChangedSdk();
    const otherData = join(repo, '..', 'data-other');
    const refused = await runOther(
      other,
      ['run', '.maestro/workflows/greet.yaml', '--data-dir', otherData],
      repo,
      { ...env, MAESTRO_PROVENANCE: 'off' },
    );
    expect(refused.code).toBe(1);
    const refusedId = /run (r-\S+) /.exec(refused.stdout)?.[1];
    const refusedLogs = (
      await runOther(other, ['runs', 'logs', refusedId!, '--data-dir', otherData], repo, env)
    ).stdout;
    expect(refusedLogs).toContain('catalog_digest_mismatch');
    expect(refusedLogs).toContain("this Maestro's task SDK differs");
    expect(refusedLogs).not.toContain('greeting from the catalog');

    // The other Maestro's lock: the same commit and folder, another digest.
    const relocked = await runOther(other, ['tasks', 'lock', '--data-dir', otherData], repo, env);
    expect(relocked.stderr).toBe('');
    const otherDigest = lockedDigest(repo);
    expect(otherDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(otherDigest).not.toBe(digest);
    // To this checkout's Maestro that lock is stale (CI's check after an upgrade says so).
    const check = await runCaptured(['tasks', 'lock', '--check', '--data-dir', dataDir], repo, env);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('stale');
    commitAll(repo);

    const ran = await runOther(
      other,
      ['run', '.maestro/workflows/greet.yaml', '--data-dir', otherData],
      repo,
      env,
    );
    expect(ran.stderr).not.toMatch(/error/i);
    expect(ran.code).toBe(0);
    expect(ran.stdout).toContain('greeting from the catalog');
    const runId = /run (r-\S+) /.exec(ran.stdout)![1]!;
    const out = join(repo, '..', 'receipts');
    const receipts = await runOther(
      other,
      ['receipts', runId, '--data-dir', otherData, '-o', out],
      repo,
      env,
    );
    expect(receipts.code).toBe(0);
    const taskCode = readdirSync(out, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(out, f), 'utf8')) as { dsseEnvelope?: { payload: string } })
      .filter((b) => b.dsseEnvelope)
      .map((b) => Buffer.from(b.dsseEnvelope!.payload, 'base64').toString('utf8'))
      .filter((s) => s.includes('"task-code"'));
    expect(taskCode).toHaveLength(1);
    expect(taskCode[0]).toContain(otherDigest.slice('sha256:'.length));
    expect(taskCode[0]).not.toContain(digest.slice('sha256:'.length));
  }, 180_000);
});
