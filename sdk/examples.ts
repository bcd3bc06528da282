/**
 * A task's examples as tests: each example is inputs and what running them must give (outcome,
 * outputs, log lines, input problems), run through the in-process harness (`runTask`). The same
 * file documents the task and tests it: `maestro tasks test <dir>` runs `<dir>/examples/*.json`
 * with this, and a vitest file may call it too.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Task } from './define-task.ts';
import type { Outcome } from './lifecycle.ts';
import { runTask, type RunTaskOptions, type TaskRunResult } from './run-task.ts';

export interface TaskExample {
  description?: string;
  inputs: unknown;
  /** What `ctx.secret(name)` returns. */
  secrets?: Record<string, string>;
  /** The checkpoint the attempt starts from (`ctx.state`). */
  state?: unknown;
  /** Files written into the example's workspace before it runs (path relative to it → text). */
  files?: Record<string, string>;
  expect?: {
    /** Default `succeeded`. */
    outcome?: Outcome;
    /** Each output named here must equal the value given (others are not compared). */
    outputs?: Record<string, unknown>;
    /** Each must be part of some log message. */
    logs?: string[];
    /** JSON pointers each input (or output) problem must be reported at (`invalid` examples). */
    errors?: string[];
  };
}

export interface ExampleCheck {
  ok: boolean;
  /** What differs from the expectation, one line each. */
  problems: string[];
  result: TaskRunResult<Record<string, unknown>>;
}

export async function checkExample(
  task: Task<never, Record<string, unknown>>,
  example: TaskExample,
  options: Pick<RunTaskOptions, 'workspace' | 'clock' | 'signal'> = {},
): Promise<ExampleCheck> {
  const result = (await runTask(task as Task<unknown, Record<string, unknown>>, example.inputs, {
    ...options,
    ...(example.secrets ? { secrets: example.secrets } : {}),
    ...(example.state === undefined ? {} : { state: example.state }),
  })) as TaskRunResult<Record<string, unknown>>;
  const want = example.expect ?? {};
  const problems: string[] = [];
  const outcome = want.outcome ?? 'succeeded';
  if (result.outcome !== outcome) {
    const why = result.errors.map((e) => `${e.path} ${e.message}`).join('; ');
    const error = result.error instanceof Error ? result.error.message : undefined;
    problems.push(
      `outcome: expected ${outcome}, got ${result.outcome}${why ? ` (${why})` : ''}${error ? ` (${error})` : ''}`,
    );
  }
  for (const [name, value] of Object.entries(want.outputs ?? {}))
    if (!isDeepStrictEqual(result.outputs[name], value))
      problems.push(
        `outputs.${name}: expected ${JSON.stringify(value)}, got ${JSON.stringify(result.outputs[name])}`,
      );
  for (const line of want.logs ?? [])
    if (!result.logs.some((l) => l.message.includes(line)))
      problems.push(`logs: no line contains ${JSON.stringify(line)}`);
  for (const path of want.errors ?? [])
    if (!result.errors.some((e) => e.path === path)) problems.push(`errors: none at ${path}`);
  return { ok: problems.length === 0, problems, result };
}
