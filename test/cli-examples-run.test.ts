import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/index.ts';
import { captureIo } from './cli-helpers.ts';

// The examples are promised to run offline on the local runner, not only to compile: run each
// through the real CLI and engine (local processes, SQLite store) and read the stored result.
const root = fileURLToPath(new URL('..', import.meta.url));

interface ShownRun {
  status: string;
  tasks: Array<{
    id: string;
    state: string;
    reason: string;
    attempts: Array<{ outputs: Record<string, string> }>;
  }>;
}

async function runExample(file: string, params: string[] = []): Promise<ShownRun> {
  const dataDir = mkdtempSync(join(tmpdir(), 'maestro-example-'));
  const io = captureIo(root, {});
  const code = await runCli(
    ['run', file, '--data-dir', dataDir, ...params.flatMap((p) => ['--param', p])],
    io,
  );
  expect(code, `maestro run ${file}:\n${io.out()}\n${io.err()}`).toBe(0);
  const list = captureIo(root, {});
  expect(await runCli(['runs', 'list', '--data-dir', dataDir, '--format', 'json'], list)).toBe(0);
  const [run] = JSON.parse(list.out()) as Array<{ id: string }>;
  const show = captureIo(root, {});
  expect(await runCli(['runs', 'show', run!.id, '--data-dir', dataDir, '--format', 'json'], show)).toBe(0);
  return JSON.parse(show.out()) as ShownRun;
}

const task = (run: ShownRun, id: string): ShownRun['tasks'][number] => {
  const found = run.tasks.find((t) => t.id === id);
  expect(found, `task ${id}`).toBeDefined();
  return found!;
};
const outputs = (run: ShownRun, id: string): Record<string, string> => task(run, id).attempts.at(-1)!.outputs;

describe('examples run on the local runner', () => {
  it('quickstart: outputs flow and the condition skips `shout` unless asked', async () => {
    const run = await runExample('examples/quickstart/.maestro/workflows/hello.yaml');
    expect(run.status).toBe('succeeded');
    expect(outputs(run, 'greet')).toEqual({ greeting: 'Hello, world!' });
    expect(outputs(run, 'measure')).toEqual({ length: '13' });
    expect(task(run, 'shout').state).toBe('skipped');
    expect(task(run, 'report').state).toBe('succeeded');
    const loud = await runExample('examples/quickstart/.maestro/workflows/hello.yaml', [
      'shout=true',
      'who=Ada',
    ]);
    expect(task(loud, 'shout').state).toBe('succeeded');
    expect(outputs(loud, 'greet')).toEqual({ greeting: 'Hello, Ada!' });
  });

  it('CI: build, four test expansions, fan-in, deploy with outputs flowing', async () => {
    const run = await runExample('examples/ci-build-test-deploy/.maestro/workflows/build-test-deploy.yaml');
    expect(run.status).toBe('succeeded');
    expect(run.tasks.filter((t) => t.id.startsWith('test[')).map((t) => t.state)).toEqual(
      Array(4).fill('succeeded'),
    );
    const digest = outputs(run, 'build')['digest'];
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(outputs(run, 'release_notes')['notes']).toBe(`version 1.4.0, build ${digest}`);
    expect(outputs(run, 'deploy')).toEqual({ url: 'https://staging.example.internal' });
    expect(task(run, 'smoke').state).toBe('succeeded');
  });

  it('ETL: exports validated data, and skips the export under the row threshold', async () => {
    const run = await runExample('examples/data-pipeline/.maestro/workflows/nightly-etl.yaml');
    expect(run.status).toBe('succeeded');
    expect(outputs(run, 'extract')).toEqual({ rows: '4', source: 'records-2026-01-01.csv' });
    expect(outputs(run, 'validate')['valid']).toBe('true');
    expect(task(run, 'export').state).toBe('succeeded');
    const strict = await runExample('examples/data-pipeline/.maestro/workflows/nightly-etl.yaml', [
      'minRows=10',
    ]);
    expect(task(strict, 'export').state).toBe('skipped');
    expect(task(strict, 'notify').state).toBe('succeeded');
  });
});
