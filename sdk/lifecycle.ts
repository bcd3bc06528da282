/**
 * One run of a task's lifecycle, shared by the process entry (`runMain`) and the in-process
 * harness (`runTask`), so a unit test exercises exactly the code a runner starts:
 * init(ctx) → the spec's input check → validate(inputs) → execute(inputs, ctx) → the spec's
 * output check.
 */
import type { TaskClock } from './clock.ts';
import type { RunnableTask, TaskContext, TaskPolicy } from './define-task.ts';
import { TaskError, type ValidationIssue } from './errors.ts';
import { outputText, PROTOCOL_VERSION, type MessageSink } from './messages.ts';

export interface LifecycleDeps {
  sink: MessageSink;
  clock: TaskClock;
  signal: AbortSignal;
  workspace: string;
  artifactsDir: string | undefined;
  secret: (name: string) => string | undefined;
  /** The checkpoint to start from (`ctx.state`); undefined on a first attempt. */
  state?: unknown;
  /** The run's policy context (`ctx.policy`), from MAESTRO_POLICY_CONTEXT. */
  policy?: TaskPolicy;
}

export type Outcome = 'succeeded' | 'invalid' | 'failed' | 'cancelled';

export interface Ending {
  outcome: Outcome;
  /** The input problems (`invalid`) or output problems (`failed`, code `outputs_invalid`). */
  errors: ValidationIssue[];
  /** What ended a `failed` or `cancelled` task. */
  error?: unknown;
  /** The outputs emitted, as typed values (on the wire they are strings). */
  outputs: Record<string, unknown>;
}

export async function runLifecycle(
  task: RunnableTask,
  rawInputs: unknown,
  deps: LifecycleDeps,
): Promise<Ending> {
  const outputs: Record<string, unknown> = {};
  const ctx = contextOf(task, deps, outputs);
  try {
    await task.init?.(ctx as never);
    const checked = task.checkInputs(rawInputs);
    if (!checked.ok) return { outcome: 'invalid', errors: checked.errors, outputs };
    const custom = await task.validate?.(rawInputs as never);
    if (custom && !custom.ok) return { outcome: 'invalid', errors: custom.errors, outputs };
    const returned = (await task.execute(rawInputs as never, ctx as never)) as
      Record<string, unknown> | undefined;
    for (const [name, value] of Object.entries(returned ?? {})) emitOutput(task, deps, outputs, name, value);
    const ended = task.checkOutputs(outputs);
    if (!ended.ok)
      return {
        outcome: 'failed',
        errors: ended.errors,
        error: new TaskError('outputs_invalid', `${task.name}'s outputs do not match its spec`, {
          fault: 'system',
          hint: 'fix the task: what it emits must match spec.outputs',
        }),
        outputs,
      };
    return { outcome: 'succeeded', errors: [], outputs };
  } catch (error) {
    return { outcome: deps.signal.aborted ? 'cancelled' : 'failed', errors: [], error, outputs };
  }
}

function emitOutput(
  task: RunnableTask,
  deps: LifecycleDeps,
  outputs: Record<string, unknown>,
  name: string,
  value: unknown,
): void {
  if (!declares(task.spec.outputs, name))
    throw new TaskError(
      'output_undeclared',
      `${task.name} emitted output ${JSON.stringify(name)}, which its spec does not declare`,
      { fault: 'system', hint: `add ${name} to spec.outputs.properties, or do not emit it` },
    );
  outputs[name] = value;
  deps.sink.write({ v: PROTOCOL_VERSION, type: 'output', name, value: outputText(value) });
}

/**
 * A name is declared when it is one of `spec.outputs.properties`, or when the spec says
 * outright that other names are allowed (`additionalProperties` a schema or `true`: a task whose
 * output names come from its inputs, as echo's do). An absent `additionalProperties` (which JSON
 * Schema reads as "anything") does not open the set: outputs feed other tasks' templates.
 */
function declares(spec: unknown, name: string): boolean {
  const { properties, additionalProperties } = spec as {
    properties?: Record<string, unknown>;
    additionalProperties?: unknown;
  };
  if (properties && Object.hasOwn(properties, name)) return true;
  return (
    additionalProperties === true ||
    (typeof additionalProperties === 'object' && additionalProperties !== null)
  );
}

function contextOf(
  task: RunnableTask,
  deps: LifecycleDeps,
  outputs: Record<string, unknown>,
): TaskContext<Record<string, unknown>> {
  const { sink } = deps;
  const v = PROTOCOL_VERSION;
  return {
    signal: deps.signal,
    clock: deps.clock,
    workspace: deps.workspace,
    artifactsDir: deps.artifactsDir,
    state: deps.state,
    policy: deps.policy,
    heartbeat: () => sink.write({ v, type: 'heartbeat' }),
    secret(name) {
      const value = deps.secret(name);
      if (value === undefined)
        throw new TaskError(
          'secret_missing',
          `${task.name} needs the secret ${name}, which it was not given`,
          {
            hint: `pass it in the task's env: ${name}: \${{ secrets.${name} }}`,
          },
        );
      return value;
    },
    emit: {
      output: (name: string, value: unknown) => emitOutput(task, deps, outputs, name, value),
      log: (message, level = 'info') => sink.write({ v, type: 'log', level, message }),
      metric: (name, value, unit) =>
        sink.write({ v, type: 'metric', name, value, ...(unit ? { unit } : {}) }),
      artifact: (path) => sink.write({ v, type: 'artifact', path }),
      image: (reference) => sink.write({ v, type: 'image', reference }),
      state: (value) => sink.write({ v, type: 'state', value }),
      progress: (p) => sink.write({ v, type: 'progress', ...p }),
    },
  };
}
