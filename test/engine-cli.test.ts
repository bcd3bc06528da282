/** `maestro run`, `runs`, and `replay` end to end, in-process, with the real compiler and local runner. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../cli/index.ts';
import { tempDir } from './helpers/engine-fixtures.ts';
import { startWitness } from './helpers/witness.ts';
import { shellIo, writeWorkflow } from './cli-helpers.ts';

const root = join(import.meta.dirname, '..');
const hello = join(root, 'examples', 'quickstart', '.maestro', 'workflows', 'hello.yaml');

const io = (env: Record<string, string> = {}) => shellIo(root, env);

const manifest = (dir: string, tasks: string) => writeWorkflow(dir, 'cli', tasks);

describe('maestro run / runs / replay', () => {
  it('runs the quickstart to success and lists it as JSON', async () => {
    const dataDir = tempDir();
    const run = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', hello, '--param', 'who=Ada'], run)).toBe(0);
    expect(run.out()).toContain('report | Hello, Ada! (11 characters)');
    const list = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['runs', 'list', '--format', 'json'], list)).toBe(0);
    const runs = JSON.parse(list.out()) as Record<string, unknown>[];
    expect(runs).toHaveLength(1);
    expect(Object.keys(runs[0]!).sort()).toEqual(
      ['createdAt', 'finishedAt', 'id', 'namespace', 'startedAt', 'status', 'workflow'].sort(),
    );
    expect(runs[0]).toMatchObject({ workflow: 'hello', namespace: 'quickstart', status: 'succeeded' });
    const show = io();
    expect(
      await runCli(['runs', 'show', String(runs[0]!.id), '--data-dir', dataDir, '--format', 'json'], show),
    ).toBe(0);
    const detail = JSON.parse(show.out()) as {
      tasks: { id: string; state: string; attempts: { outputs: object }[] }[];
    };
    expect(detail.tasks.find((t) => t.id === 'greet')!.attempts[0]!.outputs).toEqual({
      greeting: 'Hello, Ada!',
    });
    expect(detail.tasks.find((t) => t.id === 'shout')!.state).toBe('skipped');
    const logs = io();
    expect(
      await runCli(['runs', 'logs', String(runs[0]!.id), '--data-dir', dataDir, '--task', 'report'], logs),
    ).toBe(0);
    expect(logs.out()).toContain('report#1 stdout: Hello, Ada! (11 characters)');
  });

  it('exits 1 for a failed run and retries only the failed part', async () => {
    const dataDir = tempDir();
    // Tasks report to a witness on 127.0.0.1 (the sandbox shows them no host file); `second`
    // fails the first time and succeeds the second, by the witness's count of its reports.
    const witness = await startWitness();
    onTestFinished(() => witness.close());
    const file = manifest(
      dataDir,
      `    - id: first
      run: echo first | ${witness.report('first')}
    - id: second
      needs: [first]
      run: '[ "$(echo x | ${witness.report('second')})" -ge 2 ]'
`,
    );
    const run = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', file], run)).toBe(1);
    const runId = /run (r-[0-9a-f-]+)/.exec(run.out())![1]!;
    const retry = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['runs', 'retry', runId, '--format', 'json'], retry)).toBe(0);
    expect(JSON.parse(retry.out())).toMatchObject({ id: runId, status: 'succeeded' });
    expect(witness.reports('first').map((r) => r.body)).toEqual(['first\n']);
  });

  it('reports replay per output: hash-equal for a deterministic task, different for a random one', async () => {
    const dataDir = tempDir();
    const file = manifest(
      dataDir,
      `    - id: fixed
      run: echo "v=42" >> "$MAESTRO_OUTPUT"
      outputs: [v]
    - id: random
      run: echo "v=$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')" >> "$MAESTRO_OUTPUT"
      outputs: [v]
`,
    );
    const run = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', file], run)).toBe(0);
    const runId = /run (r-[0-9a-f-]+)/.exec(run.out())![1]!;
    const fixed = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['replay', runId, '--task', 'fixed', '--format', 'json'], fixed)).toBe(0);
    expect(JSON.parse(fixed.out()).tasks[0].items).toEqual([
      expect.objectContaining({ name: 'v', kind: 'output', equal: true }),
    ]);
    const random = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['replay', runId], random)).toBe(1);
    expect(random.out()).toContain('output v: different');
  });

  it('gives a clear error for an unknown run id and for a corrupt data dir, leaving it untouched', async () => {
    const dataDir = tempDir();
    const unknown = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['runs', 'show', 'r-missing'], unknown)).toBe(1);
    expect(unknown.err()).toContain('run "r-missing" was not found');
    const resume = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', '--resume', 'r-missing'], resume)).toBe(1);
    expect(resume.err()).toContain('run "r-missing" was not found');
    const corrupt = tempDir();
    const db = join(corrupt, 'maestro.db');
    writeFileSync(db, Buffer.alloc(8192, 7));
    const before = readFileSync(db);
    const list = io({ MAESTRO_DATA_DIR: corrupt });
    expect(await runCli(['runs', 'list'], list)).toBe(1);
    expect(list.err()).toContain('corrupt or not a database');
    expect(list.err()).not.toMatch(/\n\s+at /);
    expect(readFileSync(db).equals(before)).toBe(true);
  });

  it('refuses a manifest with errors before creating a run', async () => {
    const dataDir = tempDir();
    const broken = join(root, 'examples', 'quickstart', 'broken', '.maestro', 'workflows', 'broken.yaml');
    const run = io({ MAESTRO_DATA_DIR: dataDir });
    expect(await runCli(['run', broken], run)).toBe(1);
    const list = io({ MAESTRO_DATA_DIR: dataDir });
    await runCli(['runs', 'list', '--format', 'json'], list);
    expect(JSON.parse(list.out())).toEqual([]);
  });
});
