/**
 * Dispatch: from a PlanTask and what the run knows (params, secrets, earlier outputs) to the
 * runner's start request. Pure apart from reading the catalog; every value is resolved here, so
 * runners never see an expression.
 */
import type {
  DigestedFile,
  PlanTask,
  RunSource,
  RunTrust,
  RunnerCommand,
  TaskCatalog,
} from '../core/index.ts';
import { InputError, digestOf } from '../core/index.ts';
import { MissingSecretError, WorkloadIdentityUnavailableError } from './errors.ts';
import { usesWorkloadIdentity } from './workload-identity.ts';
import { renderTemplate, type ExpressionScope } from '../compiler/index.ts';
import { redactValue } from '../core/index.ts';

export interface DispatchContext {
  runId: string;
  workflow: { name: string; namespace: string };
  params: Record<string, unknown>;
  secrets: Record<string, string>;
  outputsOf: (taskId: string) => Record<string, string>;
  declaredIdOf: (taskId: string) => string;
  catalog: TaskCatalog | undefined;
  /** The Node binary that runs catalog tasks. */
  nodePath: string;
  /** Node arguments before a repository task's entry (EngineOptions.taskNodeArgs). */
  taskNodeArgs?: readonly string[];
  /** The task's signed workload identity, minted when its templates use `${workload.identity}`. */
  workloadIdentity?: string;
}

export interface ResolvedTask {
  command: RunnerCommand;
  env: Record<string, string>;
  with: Record<string, unknown>;
  /** The secret values this task may see, for redaction. */
  redact: string[];
  /** The same secrets by name (for the keyed digest in its cache key). */
  secrets: Record<string, string>;
  image?: string;
  codeDigest?: string;
  /** Breaker target: runner + image, or the catalog task. */
  target: string;
}

export function scopeFor(
  task: PlanTask,
  ctx: DispatchContext,
  secrets: Record<string, string>,
): ExpressionScope {
  // The compiler's scope names finished tasks by declared id (a matrix expansion by its own id too).
  const tasks: Record<string, { outputs: Record<string, string> }> = {};
  for (const need of task.needs) {
    const outputs = { outputs: ctx.outputsOf(need) };
    tasks[need] = outputs;
    tasks[ctx.declaredIdOf(need)] ??= outputs;
  }
  return {
    params: ctx.params,
    secrets,
    // The signed token (engine/workload-identity.ts), never a name a service could be told by anyone.
    workload: ctx.workloadIdentity === undefined ? {} : { identity: ctx.workloadIdentity },
    tasks,
    matrix: task.matrix ?? {},
    run: { id: ctx.runId },
  };
}

function taskSecrets(task: PlanTask, ctx: DispatchContext): Record<string, string> {
  const secrets: Record<string, string> = {};
  for (const name of task.secrets) {
    const value = ctx.secrets[name];
    if (value === undefined) throw new MissingSecretError(name, task.id);
    secrets[name] = value;
  }
  return secrets;
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function resolveTask(task: PlanTask, ctx: DispatchContext): ResolvedTask {
  const secrets = taskSecrets(task, ctx);
  if (ctx.workloadIdentity === undefined && usesWorkloadIdentity(task))
    throw new WorkloadIdentityUnavailableError(task.id);
  const scope = scopeFor(task, ctx, secrets);
  const render = (value: unknown): unknown => renderTemplate(value, scope);
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(task.env)) env[name] = asString(render(value));
  const withValues = (render(task.with) ?? {}) as Record<string, unknown>;
  // The workload identity is a bearer credential: redacted wherever the secrets are.
  const redact = [...Object.values(secrets), ...(ctx.workloadIdentity ? [ctx.workloadIdentity] : [])];
  const action = task.action;
  switch (action.type) {
    case 'shell':
      // The compiler already moved every expression of a script into MAESTRO_EXPR_<n> env
      // entries, so the script text is passed as it is: values reach the shell only as data.
      return {
        command: { kind: 'shell', script: action.script },
        env,
        with: withValues,
        redact,
        secrets,
        target: task.runner,
      };
    case 'argv':
      return {
        command: { kind: 'argv', argv: action.argv.map((a) => asString(render(a))) },
        env,
        with: withValues,
        redact,
        secrets,
        target: task.runner,
      };
    case 'container': {
      const command: RunnerCommand = { kind: 'container', image: action.image };
      if (action.command) command.command = action.command.map((a) => asString(render(a)));
      if (action.args) command.args = action.args.map((a) => asString(render(a)));
      return {
        command,
        env,
        with: withValues,
        redact,
        secrets,
        image: action.image,
        target: `${task.runner}:${action.image}`,
      };
    }
    case 'catalog': {
      if (action.entry !== undefined) return repositoryTask(task, ctx, { env, withValues, redact, secrets });
      const entry = ctx.catalog?.versions(action.name).find((e) => e.version === action.version);
      if (!entry)
        throw new InputError(
          'catalog_task_missing',
          `task ${task.id} uses ${action.name}@${action.version}, which is not in the catalog`,
        );
      env.MAESTRO_INPUTS = JSON.stringify(withValues);
      const resolved: ResolvedTask = {
        command: { kind: 'argv', argv: [ctx.nodePath, entry.entry] },
        env,
        with: withValues,
        redact,
        secrets,
        codeDigest: action.digest,
        target: `${action.name}@${action.version}`,
      };
      if (entry.image) resolved.image = entry.image;
      return resolved;
    }
  }
}

/**
 * A repository task (`uses: ./.maestro/tasks/<name>`): its entry, relative to the source root,
 * runs from the attempt's workspace (which holds the source at the run's commit), with the
 * interpreter its task.json named (Python) or the engine's Node. Never a catalog lookup: the
 * plan names it by its folder, so a repository task cannot stand in for a built-in one.
 */
function repositoryTask(
  task: PlanTask,
  ctx: DispatchContext,
  parts: {
    env: Record<string, string>;
    withValues: Record<string, unknown>;
    redact: string[];
    secrets: Record<string, string>;
  },
): ResolvedTask {
  const action = task.action as Extract<PlanTask['action'], { type: 'catalog' }>;
  const entry = action.entry as string;
  parts.env.MAESTRO_INPUTS = JSON.stringify(parts.withValues);
  const argv: [string, ...string[]] =
    action.interpreter === undefined
      ? [ctx.nodePath, ...(ctx.taskNodeArgs ?? []), entry]
      : [action.interpreter, entry];
  return {
    command: { kind: 'argv', argv },
    env: parts.env,
    with: parts.withValues,
    redact: parts.redact,
    secrets: parts.secrets,
    codeDigest: action.digest,
    target: `${action.name}@${action.version}`,
  };
}

/**
 * The inputs an attempt records (command, env, with), secrets redacted value by value before
 * anything is serialised: redacting the JSON text instead misses every secret JSON escapes (a
 * newline, `"` or `\`: a PEM key would be stored in plaintext).
 */
export function recordedInputs(
  resolved: ResolvedTask,
  redact: (t: string) => string,
): Record<string, unknown> {
  return redactValue({ command: resolved.command, env: resolved.env, with: resolved.with }, redact) as Record<
    string,
    unknown
  >;
}

/** Digest of each resolved input by name (command, env.<NAME>, with.<key>). Secrets are redacted first. */
export function inputDigests(resolved: ResolvedTask, redact: (t: string) => string): Record<string, string> {
  const digests: Record<string, string> = { command: digestOf(redactValue(resolved.command, redact)) };
  for (const [k, v] of Object.entries(resolved.env)) digests[`env.${k}`] = digestOf(redact(v));
  for (const [k, v] of Object.entries(resolved.with))
    digests[`with.${k}`] = digestOf(redactValue(v ?? null, redact));
  return digests;
}

/** What else a task's result depends on: the run's source commit, the artifacts it receives. */
export interface CacheKeyContext {
  source?: RunSource | null;
  /** The run's trust; absent means untrusted (fail closed, as everywhere). */
  trust?: RunTrust;
  /** Keyed digest of the secrets the task receives (cache-secret.ts); null: none. */
  secretsDigest?: string | null;
  /** The artifacts the task receives (`<task>/<path>` and digest). */
  artifacts?: readonly DigestedFile[];
}

/**
 * Cache key: sha256 over the definition digest, the resolved (redacted) inputs, the code digest
 * and the source commit: the same task on another commit of the repository is another result.
 * Members absent from the context are left out, so keys of runs without a source are unchanged.
 */
export function cacheKeyOf(
  task: PlanTask,
  resolved: ResolvedTask,
  redact: (t: string) => string,
  context: CacheKeyContext = {},
): string {
  const key: Record<string, unknown> = {
    definitionDigest: task.definitionDigest,
    inputs: inputDigests(resolved, redact),
    codeDigest: resolved.codeDigest ?? null,
  };
  // The commit alone: it names the content, wherever it was fetched from (a path, a clone URL).
  if (context.source) key.sourceCommit = context.source.commit;
  // A fork's run must never serve (or be served) a trusted run's entry: cache poisoning.
  key.trust = context.trust ?? 'untrusted';
  // Rotating a secret invalidates the entry; the HMAC reveals nothing of the values.
  if (context.secretsDigest) key.secretsDigest = context.secretsDigest;
  if (context.artifacts?.length) key.artifacts = context.artifacts.map((f) => [f.path, f.digest]);
  return digestOf(key);
}
