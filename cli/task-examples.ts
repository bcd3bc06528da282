/**
 * The child side of `maestro tasks test <dir>` (cli/commands/tasks-test.ts), run as
 * `node --import <sdk hook> task-examples.ts <dir>`: loads the task the folder's entry exports,
 * runs each examples/*.json through the SDK's harness in a fresh temporary workspace, and prints
 * one JSON report as its last line of standard output.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InputError, MaestroError, UsageError } from '../core/index.ts';
import { checkExample, type Task, type TaskExample } from '../sdk/index.ts';
import { parseTaskManifest } from '../tasks/index.ts';

export type ExamplesReport =
  | { task: string; results: { example: string; description: string; ok: boolean; problems: string[] }[] }
  | { error: { code: string; message: string; hint?: string; usage: boolean } };

type AnyTask = Task<never, Record<string, unknown>>;

async function loadTask(dir: string): Promise<AnyTask> {
  const file = join(dir, 'task.json');
  const text = await readFile(file, 'utf8').catch(() => {
    throw new UsageError(`${file} does not exist: \`maestro tasks test\` takes a task folder`);
  });
  const manifest = parseTaskManifest(text, file);
  const entry = typeof manifest.raw.entry === 'string' ? manifest.raw.entry : 'index.ts';
  if (entry.endsWith('.py'))
    throw new UsageError(`${file}: a Python task is tested with pytest and the Python SDK's run_task`);
  const module = (await import(pathToFileURL(join(dir, entry)).href)) as Record<string, unknown>;
  const tasks = Object.values(module).filter(
    (v): v is AnyTask =>
      typeof v === 'object' &&
      v !== null &&
      typeof (v as AnyTask).execute === 'function' &&
      typeof (v as AnyTask).checkInputs === 'function',
  );
  const task = tasks.find((t) => t.name === manifest.name) ?? tasks[0];
  if (!task)
    throw new InputError('task_entry_invalid', `${join(dir, entry)} exports no task made with defineTask`, {
      hint: 'export the task: `export const task = defineTask({ … })`',
    });
  return task;
}

async function loadExamples(dir: string): Promise<[string, TaskExample][]> {
  const folder = join(dir, 'examples');
  const names = (await readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort();
  if (names.length === 0)
    throw new UsageError(`${folder} holds no *.json examples`, {
      hint: 'add examples/<name>.json: { "inputs": {…}, "expect": { "outputs": {…} } } (maestro tasks test --help)',
    });
  const examples: [string, TaskExample][] = [];
  for (const name of names) {
    const file = `examples/${name}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(join(folder, name), 'utf8'));
    } catch (error) {
      throw new InputError('task_example_invalid', `${file} is not valid JSON: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || !('inputs' in parsed))
      throw new InputError('task_example_invalid', `${file} must be an object with "inputs"`);
    examples.push([file, parsed as TaskExample]);
  }
  return examples;
}

/** An example's files, each inside its workspace (no absolute path, no `..`). */
function writeFiles(workspace: string, files: Record<string, string>, example: string): void {
  for (const [path, text] of Object.entries(files)) {
    const normal = normalize(path);
    if (isAbsolute(normal) || normal.startsWith('..'))
      throw new InputError('task_example_invalid', `${example}: files.${path} is outside the workspace`);
    mkdirSync(dirname(join(workspace, normal)), { recursive: true });
    writeFileSync(join(workspace, normal), text);
  }
}

async function main(dir: string): Promise<ExamplesReport> {
  const task = await loadTask(dir);
  const results = [];
  for (const [file, example] of await loadExamples(dir)) {
    const workspace = mkdtempSync(join(tmpdir(), 'maestro-task-example-'));
    try {
      writeFiles(workspace, example.files ?? {}, file);
      const check = await checkExample(task, example, { workspace });
      results.push({
        example: file,
        description: example.description ?? '',
        ok: check.ok,
        problems: check.problems,
      });
    } finally {
      rmSync(workspace, { recursive: true, force: true });
    }
  }
  return { task: task.name, results };
}

if (import.meta.main) {
  const report = await main(process.argv[2] ?? '.').catch((error: unknown): ExamplesReport => {
    const e = error instanceof MaestroError ? error : undefined;
    return {
      error: {
        code: e?.code ?? 'task_examples_failed',
        message: error instanceof Error ? error.message : String(error),
        ...(e?.hint ? { hint: e.hint } : {}),
        usage: error instanceof UsageError,
      },
    };
  });
  process.stdout.write(`\n${JSON.stringify(report)}\n`);
}
