/**
 * What sources and destinations share: a connector is a task whose `operation` input picks one of
 * Airbyte's commands (`spec`, `check`, `discover`, `read` / `write`), whose `config` input is
 * checked against the connector's config schema, and whose code only sees a context that masks
 * the config's secrets (connector-secrets.ts) in everything it reports. Built on the task SDK's
 * own `Task` shape, so `runTask`, `runMain`, `checkExample` and `maestro tasks test` run a
 * connector as they run any task, through the same lifecycle.
 */
import type { TaskClock } from './clock.ts';
import type { Infer, ObjectSchema, Task, TaskContext } from './define-task.ts';
import { TaskError, type ValidationResult } from './errors.ts';
import type { LogLevel } from './messages.ts';
import {
  maskText,
  maskValue,
  presentSecrets,
  secretPointers,
  secretValues,
  setPointer,
  withoutSecretRequired,
} from './connector-secrets.ts';
import type { ConnectionStatus } from './connector-protocol.ts';
import { compileSchema, describeIssues } from './validate-inputs.ts';

export interface ConnectorEmit {
  log(message: string, level?: LogLevel): void;
  metric(name: string, value: number, unit?: string): void;
  progress(progress: { done?: number; total?: number; message?: string }): void;
}

/** What every connector's definition says: who it is, its config, and how to check it. */
export interface ConnectorDefinition<C extends ObjectSchema> {
  name: string;
  version: string;
  description?: string;
  documentationUrl?: string;
  /** `config`: the JSON Schema of the connector's configuration; `airbyte_secret: true` marks a secret. */
  spec: { config: C };
  check(config: NoInfer<Infer<C>>, ctx: ConnectorContext): ConnectionStatus | Promise<ConnectionStatus>;
}

/** A definition with its config type erased (the SDK only passes the checked config through). */
interface AnyDefinition {
  name: string;
  version: string;
  description?: string;
  documentationUrl?: string;
  spec: { config: ObjectSchema };
  check(config: never, ctx: ConnectorContext): ConnectionStatus | Promise<ConnectionStatus>;
}

/** The part of a connector's shape its definition gives. */
export function describedBy(
  definition: AnyDefinition,
): Pick<ConnectorShape, 'name' | 'version' | 'description' | 'documentationUrl' | 'config'> {
  return {
    name: definition.name,
    version: definition.version,
    ...(definition.description ? { description: definition.description } : {}),
    ...(definition.documentationUrl ? { documentationUrl: definition.documentationUrl } : {}),
    config: definition.spec.config,
  };
}

/** `spec` and `check`, the operations every connector has; undefined for the others. */
export async function commonOperation(
  operation: string,
  definition: AnyDefinition,
  config: never,
  run: ConnectorRun,
): Promise<Record<string, unknown> | undefined> {
  if (operation === 'spec') return specOutputs({ ...definition, config: definition.spec.config });
  if (operation === 'check')
    return checkOutputs(definition.name, () => definition.check(config, run.connector), run);
  return undefined;
}

/** What a connector's `check`, `discover`, `read` and `write` are handed. */
export interface ConnectorContext {
  readonly signal: AbortSignal;
  readonly clock: TaskClock;
  readonly workspace: string;
  readonly artifactsDir: string | undefined;
  readonly emit: ConnectorEmit;
  heartbeat(): void;
  /** A secret from `env:` (as `ctx.secret` of a task); its value is masked like the config's. */
  secret(name: string): string;
}

/** A connector's own part of the context: the task's, and the secrets to mask. */
export interface ConnectorRun {
  ctx: TaskContext<Record<string, unknown>>;
  secrets: string[];
  connector: ConnectorContext;
  mask<T>(value: T): T;
}

export interface ConnectorShape {
  name: string;
  version: string;
  description?: string;
  documentationUrl?: string;
  config: ObjectSchema;
  operations: readonly string[];
  /** The inputs besides `operation` and `config` (`catalog`, `records`, …). */
  inputs: Record<string, unknown>;
  outputs: ObjectSchema;
  validate?(inputs: Record<string, unknown>): ValidationResult;
  run(
    operation: string,
    inputs: Record<string, unknown>,
    run: ConnectorRun,
  ): Promise<Record<string, unknown>>;
}

/**
 * The inputs schema of a connector: `operation`, `config` (required but for `spec`; its secret
 * properties never required there), `configSecrets` (which `env:` variable holds each secret
 * property), and the operation's own inputs.
 */
export function connectorInputs(
  shape: Pick<ConnectorShape, 'config' | 'operations' | 'inputs'>,
): ObjectSchema {
  return {
    type: 'object',
    required: ['operation'],
    additionalProperties: false,
    properties: {
      operation: {
        enum: [...shape.operations],
        description: "The connector's command (Airbyte's): spec needs no config",
      },
      config: withoutSecretRequired(shape.config),
      configSecrets: {
        type: 'object',
        description:
          'Each secret property of config (a JSON Pointer, /apiKey) and the env: variable that holds it',
        additionalProperties: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      },
      ...shape.inputs,
    },
    if: { properties: { operation: { const: 'spec' } } },
    else: { required: ['config'] },
  } as ObjectSchema;
}

/**
 * A secret in `with:` is stored with the plan, so a secret property given there is refused (as
 * the reference tasks refuse a password in their inputs); `configSecrets` must name secret
 * properties only.
 */
function checkSecrets(shape: ConnectorShape, inputs: Record<string, unknown>): ValidationResult {
  const inline = presentSecrets(shape.config, inputs.config).map((pointer) => ({
    path: `/config${pointer}`,
    message:
      'is a secret (airbyte_secret): never in with:, which is stored with the plan; pass it in env: and name the variable in configSecrets',
  }));
  const allowed = secretPointers(shape.config);
  const named = Object.keys((inputs.configSecrets ?? {}) as Record<string, string>);
  const unknown = named
    .filter((pointer) => !allowed.includes(pointer))
    .map((pointer) => ({
      path: `/configSecrets/${pointer.replaceAll('~', '~0').replaceAll('/', '~1')}`,
      message: `is not a secret property of the config (${allowed.join(', ') || 'it has none'})`,
    }));
  const errors = [...inline, ...unknown];
  if (errors.length > 0) return { ok: false, errors };
  return shape.validate?.(inputs) ?? { ok: true, errors: [] };
}

/** The config with its secrets filled in from `env:`, checked against the connector's schema. */
function fullConfig(
  shape: ConnectorShape,
  inputs: Record<string, unknown>,
  ctx: TaskContext<Record<string, unknown>>,
  check: (value: unknown) => ValidationResult,
): Record<string, unknown> {
  const config = structuredClone((inputs.config ?? {}) as Record<string, unknown>);
  for (const [pointer, variable] of Object.entries((inputs.configSecrets ?? {}) as Record<string, string>)) {
    const raw = ctx.secret(variable);
    setPointer(config, pointer, isStringAt(shape.config, pointer) ? raw : parsed(raw));
  }
  const checked = check(config);
  if (!checked.ok) {
    const secrets = secretValues(shape.config, config);
    const problems = checked.errors.map((e) => ({ ...e, path: `/config${e.path}` }));
    throw new TaskError('config_invalid', maskText(`${shape.name}: ${describeIssues(problems)}`, secrets), {
      hint: 'a secret property of config comes from env: through configSecrets ({ "/apiKey": "API_KEY" })',
    });
  }
  return config;
}

function isStringAt(schema: unknown, pointer: string): boolean {
  let at = schema as { properties?: Record<string, unknown>; type?: unknown } | undefined;
  for (const part of pointer.split('/').slice(1))
    at = at?.properties?.[part.replaceAll('~1', '/').replaceAll('~0', '~')] as typeof at;
  return at?.type === undefined || at.type === 'string';
}

function parsed(raw: string): unknown {
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw; // the config's check names what is wrong with it
  }
}

export function connectorTask<Inputs, Outputs>(shape: ConnectorShape): Task<Inputs, Outputs> {
  const inputs = connectorInputs(shape);
  const checkConfig = compileSchema(shape.config);
  const task = {
    name: shape.name,
    version: shape.version,
    ...(shape.description ? { description: shape.description } : {}),
    spec: { inputs, outputs: shape.outputs },
    validate: (given: Record<string, unknown>) => checkSecrets(shape, given),
    async execute(given: Record<string, unknown>, ctx: TaskContext<Record<string, unknown>>) {
      const operation = given.operation as string;
      const config = operation === 'spec' ? undefined : fullConfig(shape, given, ctx, checkConfig);
      const secrets = secretValues(shape.config, config);
      const mask = <T>(value: T): T => maskValue(value, secrets);
      try {
        const run: ConnectorRun = { ctx, secrets, mask, connector: connectorContext(ctx, secrets) };
        return mask(await shape.run(operation, { ...given, config }, run));
      } catch (error) {
        throw masked(error, secrets);
      }
    },
    checkInputs: compileSchema(inputs),
    checkOutputs: compileSchema(shape.outputs),
  };
  return task as unknown as Task<Inputs, Outputs>;
}

/** The context a connector's code gets: the task's, with every report masked. */
function connectorContext(ctx: TaskContext<Record<string, unknown>>, secrets: string[]): ConnectorContext {
  const text = (s: string) => maskText(s, secrets);
  return {
    signal: ctx.signal,
    clock: ctx.clock,
    workspace: ctx.workspace,
    artifactsDir: ctx.artifactsDir,
    heartbeat: () => ctx.heartbeat(),
    secret(name) {
      const value = ctx.secret(name);
      if (value && !secrets.includes(value)) {
        secrets.push(value);
        secrets.sort((a, b) => b.length - a.length);
      }
      return value;
    },
    emit: {
      log: (message, level) => ctx.emit.log(text(String(message)), level),
      metric: (name, value, unit) => ctx.emit.metric(text(name), value, unit),
      progress: (p) => ctx.emit.progress(maskValue(p, secrets)),
    },
  };
}

/** An error with the secrets masked from its message and hint (its cause, which may hold them, dropped). */
export function masked(error: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return error;
  if (error instanceof TaskError)
    return new TaskError(error.code, maskText(error.message, secrets), {
      fault: error.fault,
      retryable: error.retryable,
      ...(error.hint ? { hint: maskText(error.hint, secrets) } : {}),
    });
  if (error instanceof Error) {
    const copy = new Error(maskText(error.message, secrets));
    copy.name = error.name;
    return copy;
  }
  return new Error(maskText(String(error), secrets));
}

/** `spec`: what the connector needs to be configured (Airbyte's `ConnectorSpecification`). */
export function specOutputs(
  shape: Pick<ConnectorShape, 'config' | 'documentationUrl'>,
): Record<string, unknown> {
  return {
    spec: {
      ...(shape.documentationUrl ? { documentationUrl: shape.documentationUrl } : {}),
      connectionSpecification: shape.config,
    },
  };
}

/**
 * `check`: the connector's answer as outputs. A check that throws is a failed check, not a failed
 * task (as Airbyte's): the run goes on, and a later task can say `when: …status == 'succeeded'`.
 * Cancellation still cancels.
 */
export async function checkOutputs(
  name: string,
  check: () => ConnectionStatus | Promise<ConnectionStatus>,
  run: ConnectorRun,
): Promise<Record<string, unknown>> {
  let status: ConnectionStatus;
  try {
    status = await check();
  } catch (error) {
    if (run.ctx.signal.aborted) throw error;
    const message = error instanceof Error ? error.message : String(error);
    status = { status: 'failed', message };
  }
  if (status?.status !== 'succeeded' && status?.status !== 'failed')
    throw new TaskError('check_invalid', `${name}'s check returned ${JSON.stringify(status)}`, {
      fault: 'system',
      hint: "return { status: 'succeeded' } or { status: 'failed', message }",
    });
  const message = status.message ?? (status.status === 'succeeded' ? 'connected' : 'check failed');
  run.connector.emit.log(`check ${status.status}: ${message}`, status.status === 'failed' ? 'warn' : 'info');
  return { status: status.status, message };
}
