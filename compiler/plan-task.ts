import type { Manifest, ManifestRetry, ManifestTask, PlanAction, PlanTask } from '../core/index.ts';
import type { TaskModel } from './analysis/index.ts';
import { parseDuration } from './duration.ts';
import { scanTemplate, spansOf } from './expressions.ts';

/** Defaults the plan applies where neither the task nor `spec.defaults` says. */
export const PlanDefaults = {
  runner: 'local',
  resources: 'small',
  namespace: 'default',
  currency: 'USD',
  retry: { limit: 0, initial: '1s', factor: 2, max: '5m', jitter: 'full' },
} as const;

/** One expansion of a declared task: the task itself, or one combination of its matrix. */
export interface Expansion {
  model: TaskModel;
  matrix?: Record<string, string | number | boolean>;
  id: string;
}

/** What every task of one plan shares: the defaults, parsed durations, the common retry policy. */
export class TaskPlanner {
  private readonly durations = new Map<string, number>();
  private sharedRetry: PlanTask['retry'] | undefined;
  /** envOf's work arrays, emptied and reused for each task (no two arrays per task). */
  private readonly envNames: string[] = [];
  private readonly envValues: string[] = [];
  readonly defaults: NonNullable<Manifest['spec']['defaults']>;
  constructor(defaults: NonNullable<Manifest['spec']['defaults']>) {
    this.defaults = defaults;
  }

  /** Milliseconds of a duration text, parsed once per distinct text. */
  ms(text: string): number {
    let value = this.durations.get(text);
    if (value === undefined) this.durations.set(text, (value = parseDuration(text)));
    return value;
  }

  /** Tasks without their own retry share one (immutable) merged policy: fewer allocations. */
  retry(own: ManifestRetry | undefined): PlanTask['retry'] {
    if (own === undefined) return (this.sharedRetry ??= mergeRetry(this.defaults.retry, undefined, this));
    return mergeRetry(this.defaults.retry, own, this);
  }

  /**
   * The plan task, `definitionDigest` still undefined (PlanHasher.task fills it). Members are added in
   * sorted key order (insertion order is enumeration order), so canonical JSON is plain
   * JSON.stringify (canonical-fast.ts). Assignments, not conditional spreads: a spread in an
   * object literal is a runtime call per member.
   */
  task(expansion: Expansion, needs: string[]): PlanTask {
    const task = expansion.model.task;
    // Most tasks carry none of the optional members that sort among the others: those are built
    // by one literal, whose members V8 keeps inside the object (assigned one by one, fifteen
    // members grow a separate store five times, garbage each time, alive while the plan is built).
    const draft =
      expansion.matrix === undefined &&
      task.artifacts === undefined &&
      task.hostAccess !== true &&
      task.network !== 'none' &&
      task.onInterrupt !== 'fail' &&
      task.placement?.deferrable !== true &&
      task.ifSkipped !== 'run'
        ? this.plainDraft(expansion, needs)
        : this.fullDraft(expansion, needs);
    // The members that sort after `secrets`, in order.
    const timeout = task.timeout ?? this.defaults.timeout;
    if (timeout !== undefined) draft.timeoutMs = this.ms(timeout);
    if (task.when !== undefined) draft.when = task.when;
    draft.with = task.with === undefined ? {} : sortDeep(task.with);
    return draft as unknown as PlanTask;
  }

  /** The members up to `secrets` of a task with none of the optional ones among them. */
  private plainDraft({ model, id }: Expansion, needs: string[]): Record<string, unknown> {
    const task = model.task;
    const defaults = this.defaults;
    const expressions: string[] = []; // actionOf fills it, envOf binds it: action comes first
    return {
      action: actionOf(model, expressions),
      cache: this.cache(task),
      declaredId: model.id,
      definitionDigest: undefined, // filled by PlanHasher.task, in this key position
      env: envOf(defaults.env, task.env, expressions, this.envNames, this.envValues),
      id,
      needs,
      // The model's own array (declareTasks copied it), and this is its only expansion: no copy.
      outputs: model.outputs,
      resources: task.resources ?? defaults.resources ?? PlanDefaults.resources,
      retry: this.retry(task.retry),
      runner: task.runner ?? defaults.runner ?? PlanDefaults.runner,
      secrets: model.secrets === undefined ? [] : [...model.secrets].sort(),
    };
  }

  /** The members up to `secrets`, each optional one where it sorts. */
  private fullDraft({ model, matrix, id }: Expansion, needs: string[]): Record<string, unknown> {
    const task = model.task;
    const defaults = this.defaults;
    const expressions: string[] = [];
    const draft: Record<string, unknown> = { action: actionOf(model, expressions) };
    // Folder paths are kept without their trailing `/`: `dist/` and `dist` are the same artifact.
    if (task.artifacts) draft.artifacts = task.artifacts.map((p) => p.replace(/\/+$/, ''));
    draft.cache = this.cache(task);
    draft.declaredId = model.id;
    draft.definitionDigest = undefined; // filled by PlanHasher.task, in this key position
    draft.env = envOf(defaults.env, task.env, expressions, this.envNames, this.envValues);
    if (task.hostAccess === true) draft.hostAccess = true;
    draft.id = id;
    if (matrix) draft.matrix = matrix;
    draft.needs = needs;
    if (task.network === 'none') draft.network = 'none';
    // Only `fail` is carried: `retry` is the default, so plans (and digests) without it are unchanged.
    if (task.onInterrupt === 'fail') draft.onInterrupt = 'fail';
    draft.outputs = model.outputs.slice();
    // Only a deferrable placement is carried: plans (and digests) of other tasks are unchanged.
    if (task.placement?.deferrable === true)
      draft.placement = { deadlineMs: this.ms(task.placement.deadline), deferrable: true };
    draft.resources = task.resources ?? defaults.resources ?? PlanDefaults.resources;
    draft.retry = this.retry(task.retry);
    if (task.ifSkipped === 'run') draft.runIfSkipped = true;
    draft.runner = task.runner ?? defaults.runner ?? PlanDefaults.runner;
    draft.secrets = model.secrets === undefined ? [] : [...model.secrets].sort();
    return draft;
  }

  private cache(task: ManifestTask): PlanTask['cache'] {
    const defaults = this.defaults;
    const enabled =
      task.cache?.never === true ? false : (task.cache?.enabled ?? defaults.cache?.enabled ?? false);
    const ttl = task.cache?.ttl ?? defaults.cache?.ttl;
    return enabled && ttl !== undefined ? { enabled: true, ttlMs: this.ms(ttl) } : { enabled };
  }
}

type EnvValues = Record<string, string | number | boolean> | undefined;

/**
 * The task's env, keys in sorted order: `defaults.env`, the task's own values over them, then
 * `MAESTRO_EXPR_<n>` for the n-th distinct expression of a `run` string (no manifest may set a
 * `MAESTRO_*` name, check-env.ts, so these never collide). The names are sorted in a small array
 * (the planner's, reused from task to task) and the object built once, in order. Names match the schema's `^[A-Za-z_][A-Za-z0-9_]*$`
 * (ASCII, so `<` is canonical order) and values are strings: the result is canonical JSON as
 * built, with no check needed.
 */
function envOf(
  defaults: EnvValues,
  own: EnvValues,
  expressions: readonly string[],
  names: string[],
  values: string[],
): Record<string, string> {
  // `count`, not `length`: emptying an array by its length drops its backing store.
  let count = 0;
  if (defaults)
    for (const k in defaults) {
      names[count] = k;
      values[count++] = String(own !== undefined && Object.hasOwn(own, k) ? own[k] : defaults[k]);
    }
  if (own)
    for (const k in own) {
      if (defaults !== undefined && Object.hasOwn(defaults, k)) continue;
      names[count] = k;
      values[count++] = String(own[k]);
    }
  for (let n = 0; n < expressions.length; n++) {
    names[count] = expressionName(n);
    values[count++] = expressions[n] as string;
  }
  sortPairs(names, values, count);
  const env: Record<string, string> = {};
  for (let i = 0; i < count; i++) env[names[i] as string] = values[i] as string;
  return env;
}

/** Insertion sort of the first `count` `names` (distinct), `values` moved alongside: envs are short, and it allocates nothing. */
function sortPairs(names: string[], values: string[], count: number): void {
  for (let i = 1; i < count; i++) {
    const name = names[i] as string;
    const value = values[i] as string;
    let j = i - 1;
    for (; j >= 0 && name < (names[j] as string); j--) {
      names[j + 1] = names[j] as string;
      values[j + 1] = values[j] as string;
    }
    names[j + 1] = name;
    values[j + 1] = value;
  }
}

/** `MAESTRO_EXPR_<n>` and its `${…}` reference, made once per process for the usual few. */
const expressionNames = Array.from({ length: 16 }, (_, n) => `MAESTRO_EXPR_${n}`);
const expressionRefs = expressionNames.map((name) => `\${${name}}`);
const expressionName = (n: number): string => expressionNames[n] ?? `MAESTRO_EXPR_${n}`;
const expressionRef = (n: number): string => expressionRefs[n] ?? `\${MAESTRO_EXPR_${n}}`;

/**
 * The action. A `run` string keeps its text, with each expression replaced by a reference to an
 * environment variable bound to the expression (pushed to `expressions`, first use first):
 * values reach the shell as data, never as code.
 */
function actionOf(model: TaskModel, expressions: string[]): PlanAction {
  const task = model.task;
  if (typeof task.run === 'string')
    return { script: shellScript(task.run, model, expressions), type: 'shell' };
  if (Array.isArray(task.run)) return { argv: [...task.run] as [string, ...string[]], type: 'argv' };
  if (task.uses !== undefined && model.entry) {
    const e = model.entry;
    // A repository task runs from the workspace (its entry is relative to the source root); so
    // does a locked catalog task, whose folder the engine fetches into the workspace (`source`).
    if (e.entry.startsWith('.maestro/tasks/') || e.source)
      return {
        digest: e.digest,
        entry: e.entry,
        ...(e.interpreter === undefined ? {} : { interpreter: e.interpreter }),
        name: e.name,
        ref: task.uses,
        ...(e.source ? { source: { commit: e.source.commit, path: e.source.path, url: e.source.url } } : {}),
        type: 'catalog',
        version: e.version,
      };
    return { digest: e.digest, name: e.name, ref: task.uses, type: 'catalog', version: e.version };
  }
  return {
    ...(task.args ? { args: [...task.args] } : {}),
    ...(task.command ? { command: [...task.command] } : {}),
    image: task.image as string,
    type: 'container',
  };
}

/** `run` with `${MAESTRO_EXPR_<n>}` for each expression and `$${` unescaped to `${`. */
function shellScript(run: string, model: TaskModel, expressions: string[]): string {
  const spans = model.runSpans ?? spansOf(scanTemplate(run).refs);
  let script = run;
  if (spans.length > 0) {
    // A few expressions (the usual case) are searched, not hashed: no Map per task.
    const numbers = spans.length > 16 ? new Map<string, number>() : undefined;
    script = '';
    let at = 0;
    for (let k = 0; k < spans.length; k += 2) {
      const start = spans[k] as number;
      const end = spans[k + 1] as number;
      const text = run.slice(start, end);
      let n = numbers ? (numbers.get(text) ?? -1) : expressions.indexOf(text);
      if (n === -1) {
        n = expressions.length;
        expressions.push(text);
        numbers?.set(text, n);
      }
      script += run.slice(at, start) + expressionRef(n);
      at = end;
    }
    script += run.slice(at);
  }
  return script.includes('$${') ? script.replaceAll('$${', '${') : script;
}

function mergeRetry(
  base: ManifestRetry | undefined,
  own: ManifestRetry | undefined,
  durations: Pick<TaskPlanner, 'ms'>,
): PlanTask['retry'] {
  const d = PlanDefaults.retry;
  const backoff = { ...base?.backoff, ...own?.backoff };
  const maxDuration = backoff.maxDuration;
  return {
    backoff: {
      factor: backoff.factor ?? d.factor,
      initialMs: durations.ms(backoff.initial ?? d.initial),
      ...(maxDuration === undefined ? {} : { maxDurationMs: durations.ms(maxDuration) }),
      maxMs: durations.ms(backoff.max ?? d.max),
    },
    jitter: own?.jitter ?? base?.jitter ?? d.jitter,
    limit: own?.limit ?? base?.limit ?? d.limit,
  };
}

/** A deep copy with every object's keys inserted in sorted order (user data: `with`, defaults). */
export function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortDeep((value as Record<string, unknown>)[key]);
  return out;
}
