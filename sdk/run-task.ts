/**
 * The in-process harness for a task's unit tests: the same lifecycle the runner starts
 * (`runLifecycle`), with the messages kept in memory instead of a file, an injected clock
 * (`createFakeClock` for a task that waits) and an AbortSignal standing for the runner's SIGTERM.
 * What the task emitted is returned as it was emitted, not redacted (the runner redacts), so a
 * test can see a secret the task would have logged.
 */
import { systemClock, type TaskClock } from './clock.ts';
import type { RunnableTask, Task, TaskPolicy } from './define-task.ts';
import type { ValidationIssue } from './errors.ts';
import { runLifecycle, type Outcome } from './lifecycle.ts';
import { memorySink, type LogLevel, type Message } from './messages.ts';

export interface RunTaskOptions {
  /** What `ctx.secret(name)` returns; a name not here is `secret_missing`. */
  secrets?: Record<string, string>;
  clock?: TaskClock;
  /** Abort it to cancel the task, as the runner's SIGTERM does. */
  signal?: AbortSignal;
  workspace?: string;
  artifactsDir?: string;
  /** The checkpoint a retry starts from (`ctx.state`), as the runner hands it in. */
  state?: unknown;
  /** The run's policy context (`ctx.policy`), as the engine passes it. */
  policy?: TaskPolicy;
}

export interface TaskRunResult<Outputs> {
  outcome: Outcome;
  /** Input problems (`invalid`), or output problems (`failed` with outputs_invalid). */
  errors: ValidationIssue[];
  error?: unknown;
  outputs: Partial<Outputs>;
  logs: { level: LogLevel; message: string }[];
  metrics: { name: string; value: number; unit?: string }[];
  artifacts: string[];
  /** Every checkpoint, in order; the last is what a retry would start from. */
  states: unknown[];
  heartbeats: number;
  /** Every message, as the runner would read it from $MAESTRO_MESSAGES. */
  messages: Message[];
}

export async function runTask<Inputs, Outputs>(
  task: Task<Inputs, Outputs>,
  inputs: unknown,
  options: RunTaskOptions = {},
): Promise<TaskRunResult<Outputs>> {
  const messages: Message[] = [];
  const secrets = options.secrets ?? {};
  const ending = await runLifecycle(task as RunnableTask, inputs, {
    sink: memorySink(messages),
    clock: options.clock ?? systemClock,
    signal: options.signal ?? new AbortController().signal,
    workspace: options.workspace ?? process.cwd(),
    artifactsDir: options.artifactsDir,
    secret: (name) => (Object.hasOwn(secrets, name) ? secrets[name] : undefined),
    state: options.state,
    ...(options.policy ? { policy: options.policy } : {}),
  });
  const of = <T extends Message['type']>(type: T) =>
    messages.filter((m): m is Extract<Message, { type: T }> => m.type === type);
  return {
    outcome: ending.outcome,
    errors: ending.errors,
    ...(ending.error === undefined ? {} : { error: ending.error }),
    outputs: ending.outputs as Partial<Outputs>,
    logs: of('log').map(({ level, message }) => ({ level, message })),
    metrics: of('metric').map(({ name, value, unit }) => ({ name, value, ...(unit ? { unit } : {}) })),
    artifacts: of('artifact').map((m) => m.path),
    states: of('state').map((m) => m.value),
    heartbeats: of('heartbeat').length,
    messages,
  };
}
