/**
 * A task as a process, started by a runner (docs/task-protocol.md): inputs from MAESTRO_INPUTS,
 * messages to MAESTRO_MESSAGES (or the fallback channels where a runner does not set it), the
 * runner's SIGTERM as the AbortSignal, and the ending as the exit code. A task's entry file is its
 * own small surface, so it passes its environment in: `await runMain(task, process.env)`.
 */
import { readFileSync } from 'node:fs';
import { systemClock, type TaskClock } from './clock.ts';
import type { RunnableTask, Task, TaskPolicy } from './define-task.ts';
import { TaskError } from './errors.ts';
import { runLifecycle, type Ending } from './lifecycle.ts';
import { fallbackSink, fileSink } from './messages.ts';
import { describeIssues } from './validate-inputs.ts';

/** Exit codes: 0 done; 1 failed; 2 invalid inputs (the user's fault); 143 stopped by SIGTERM. */
export const EXIT = { ok: 0, failed: 1, invalid: 2, cancelled: 143 } as const;

export interface MainOptions {
  clock?: TaskClock;
  /** Defaults: the process's own streams, cwd and SIGTERM. Tests replace them. */
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  cwd?: string;
  onTerminate?: (stop: () => void) => void;
}

export async function runMain<Inputs, Outputs>(
  task: Task<Inputs, Outputs>,
  env: Readonly<Record<string, string | undefined>>,
  options: MainOptions = {},
): Promise<number> {
  const stdout = options.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = options.stderr ?? ((t: string) => void process.stderr.write(t));
  const clock = options.clock ?? systemClock;
  const controller = new AbortController();
  const stop = () => controller.abort(new TaskError('cancelled', `${task.name} was asked to stop (SIGTERM)`));
  (options.onTerminate ?? ((s) => process.once('SIGTERM', s)))(stop);
  let inputs: unknown;
  try {
    inputs = JSON.parse(env.MAESTRO_INPUTS ?? '{}');
  } catch {
    stderr(`${task.name}: MAESTRO_INPUTS is not valid JSON\n`);
    return setExit(EXIT.invalid);
  }
  let state: unknown;
  try {
    state = readState(env.MAESTRO_STATE);
  } catch {
    stderr(`${task.name}: the checkpoint MAESTRO_STATE names is not readable JSON\n`);
    return setExit(EXIT.failed);
  }
  const sink = env.MAESTRO_MESSAGES
    ? fileSink(env.MAESTRO_MESSAGES, () => clock.now())
    : fallbackSink({ outputFile: env.MAESTRO_OUTPUT, stdout, stderr });
  const ending = await runLifecycle(task as RunnableTask, inputs, {
    sink,
    clock,
    signal: controller.signal,
    workspace: options.cwd ?? process.cwd(),
    artifactsDir: env.MAESTRO_ARTIFACTS,
    secret: (name) => env[name],
    state,
    ...policyOf(env.MAESTRO_POLICY_CONTEXT),
  });
  return setExit(report(task.name, ending, stderr));
}

/** Says on stderr why the task did not succeed (the runner's failure message), and its exit code. */
function report(name: string, ending: Ending, stderr: (text: string) => void): number {
  if (ending.outcome === 'succeeded') return EXIT.ok;
  if (ending.outcome === 'invalid') {
    stderr(`${name}: invalid inputs: ${describeIssues(ending.errors)}\n`);
    return EXIT.invalid;
  }
  const error = ending.error;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof TaskError ? ` [${error.code}]` : '';
  const details = ending.errors.length > 0 ? `: ${describeIssues(ending.errors, '(outputs)')}` : '';
  stderr(`${name}${code}: ${message}${details}\n`);
  if (error instanceof TaskError && error.hint) stderr(`hint: ${error.hint}\n`);
  return ending.outcome === 'cancelled' ? EXIT.cancelled : EXIT.failed;
}

/**
 * `MAESTRO_POLICY_CONTEXT`: the policy context the engine checked the attempt under (JSON, the plan's
 * `policy`). Only its three string fields are kept; anything else is not the engine's.
 */
function policyOf(text: string | undefined): { policy?: TaskPolicy } {
  if (!text) return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {};
  }
  if (value === null || typeof value !== 'object') return {};
  const policy: TaskPolicy = {};
  for (const key of ['purpose', 'authority', 'license'] as const) {
    const field = (value as Record<string, unknown>)[key];
    if (typeof field === 'string') policy[key] = field;
  }
  return Object.keys(policy).length > 0 ? { policy } : {};
}

/** `MAESTRO_STATE` names a file holding the JSON checkpoint to start from; unset on a first attempt. */
function readState(path: string | undefined): unknown {
  if (!path) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}

function setExit(code: number): number {
  process.exitCode = code;
  return code;
}
