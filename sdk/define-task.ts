/**
 * `defineTask`: a task as one typed value. Its `spec` holds two JSON Schemas (2020-12), one for
 * the inputs (`with:`) and one for the outputs (an object, one property per output); the types
 * of `execute`'s inputs and of `ctx.emit.output` come from them through json-schema-to-ts's
 * `FromSchema`, so a task's inputs are typed values, not strings, and no generation step can
 * drift from the schema (json-schema-to-ts is the widely used, maintained library for exactly
 * this; json-schema-to-typescript would need a build step per task). Lifecycle:
 * `init(ctx)` → the spec's check and then `validate(inputs)` → `execute(inputs, ctx)`.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { TaskClock } from './clock.ts';
import type { ValidationResult } from './errors.ts';
import type { LogLevel } from './messages.ts';
import { compileSchema } from './validate-inputs.ts';

/** An object schema: the outputs spec names each output as a property. */
export type ObjectSchema = Exclude<JSONSchema, boolean> & { type: 'object' };

export type Infer<S> = S extends JSONSchema ? FromSchema<S> : never;

export interface Emit<Outputs> {
  /** An output (declared in `spec.outputs`); non-string values are sent as JSON text. */
  output<K extends keyof Outputs & string>(name: K, value: Outputs[K]): void;
  log(message: string, level?: LogLevel): void;
  metric(name: string, value: number, unit?: string): void;
  /** A file in the workspace the task produced (kept when the manifest declares it). */
  artifact(path: string): void;
  /**
   * An image the task built and pushed, by digest (`registry/repository@sha256:…`): when the
   * attempt succeeds, the engine makes, signs and stores its SBOM (docs/supply-chain.md).
   */
  image(reference: string): void;
  /** A checkpoint: the value a retry should start from (see docs/task-protocol.md). */
  state(value: unknown): void;
  progress(progress: { done?: number; total?: number; message?: string }): void;
}

/** The policy context the run was checked under (the workflow's `spec.policy`), as the engine passes it. */
export interface TaskPolicy {
  purpose?: string;
  authority?: string;
  license?: string;
}

export interface TaskContext<Outputs = Record<string, unknown>> {
  /** Aborts on cancel or deadline (the runner's SIGTERM); the grace before SIGKILL follows. */
  readonly signal: AbortSignal;
  readonly clock: TaskClock;
  /** The working directory: the run's source checkout, where artifacts are written. */
  readonly workspace: string;
  /** `MAESTRO_ARTIFACTS`: what the tasks this one needs produced, one folder each. */
  readonly artifactsDir: string | undefined;
  readonly emit: Emit<Outputs>;
  /**
   * The checkpoint this attempt starts from: the last `ctx.emit.state` value of this task's
   * previous failed attempt in the same run (`MAESTRO_STATE`), or `undefined` on a first attempt.
   * Secrets in it arrive as `***` (it is stored redacted).
   */
  readonly state: unknown;
  /**
   * The policy context the engine checked this attempt under (`MAESTRO_POLICY_CONTEXT`: the workflow's
   * `spec.policy`, purpose, authority and license), or `undefined` when the run has none. Read it
   * here instead of asking for it again in `with:`, where it could say something else.
   */
  readonly policy: TaskPolicy | undefined;
  /** Says the task is alive (keeps its lease once runners follow messages live). */
  heartbeat(): void;
  /**
   * A secret the manifest passes in `env:` (`TOKEN: ${{ secrets.TOKEN }}`); throws
   * `secret_missing` naming it when absent. The runner redacts its value from everything logged.
   */
  secret(name: string): string;
}

/**
 * The schemas are inferred from `spec` alone: every other use is `NoInfer`, so TypeScript does
 * not try to solve FromSchema backwards from `execute`'s parameters and return value (which
 * costs it enough instantiations to hit its depth limit on open-ended specs).
 */
export interface TaskDefinition<I extends JSONSchema, O extends ObjectSchema> {
  name: string;
  version: string;
  description?: string;
  spec: { inputs: I; outputs: O };
  init?(ctx: TaskContext<NoInfer<Infer<O>>>): void | Promise<void>;
  /** Checks beyond the schema (which the SDK applies first); every problem, with its path. */
  validate?(inputs: NoInfer<Infer<I>>): ValidationResult | Promise<ValidationResult>;
  /** The work. Returned outputs are emitted as if by `ctx.emit.output`, after any emitted. */
  execute(
    inputs: NoInfer<Infer<I>>,
    ctx: TaskContext<NoInfer<Infer<O>>>,
  ): void | Partial<NoInfer<Infer<O>>> | Promise<void | Partial<NoInfer<Infer<O>>>>;
}

/**
 * A defined task, carrying its input and output *types* (computed once from the spec by
 * `defineTask`), so code that runs it (`runTask`, `runMain`) never re-derives them.
 */
export interface Task<Inputs = unknown, Outputs = Record<string, unknown>> {
  name: string;
  version: string;
  description?: string;
  spec: { inputs: JSONSchema; outputs: ObjectSchema };
  init?(ctx: TaskContext<Outputs>): void | Promise<void>;
  validate?(inputs: Inputs): ValidationResult | Promise<ValidationResult>;
  execute(
    inputs: Inputs,
    ctx: TaskContext<Outputs>,
  ): void | Partial<Outputs> | Promise<void | Partial<Outputs>>;
  /** The spec's input schema, compiled once. */
  readonly checkInputs: (value: unknown) => ValidationResult;
  /** The spec's output schema, compiled once: the outputs a task ends with are checked too. */
  readonly checkOutputs: (value: unknown) => ValidationResult;
}

export function defineTask<const I extends JSONSchema, const O extends ObjectSchema>(
  definition: TaskDefinition<I, O>,
): Task<Infer<I>, Infer<O>> {
  return {
    ...(definition as unknown as Task<Infer<I>, Infer<O>>),
    checkInputs: compileSchema(definition.spec.inputs),
    checkOutputs: compileSchema(definition.spec.outputs),
  };
}

/**
 * What running a task needs of it, its types erased: they serve the task's author, and the
 * lifecycle only passes values through (checked against the spec at run time).
 */
export interface RunnableTask {
  name: string;
  spec: { inputs: unknown; outputs: unknown };
  init?(ctx: never): unknown;
  validate?(inputs: never): ValidationResult | Promise<ValidationResult>;
  execute(inputs: never, ctx: never): unknown;
  readonly checkInputs: (value: unknown) => ValidationResult;
  readonly checkOutputs: (value: unknown) => ValidationResult;
}
