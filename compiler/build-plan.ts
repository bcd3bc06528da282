import type { Manifest, ManifestRetry, Plan, PlanAction, PlanTask } from '../core/index.ts';
import type { BlueprintPin } from './blueprint/expand.ts';
import type { TaskModel } from './analysis/index.ts';
import { planDigest, sealTask, userDataInOrder } from './canonical-fast.ts';
import { topologicalOrder } from './dag.ts';
import { parseDuration } from './duration.ts';
import { scanTemplate } from './expressions.ts';
import { normaliseSchedule } from './schedule.ts';

/** Defaults the plan applies where neither the task nor `spec.defaults` says. */
export const PlanDefaults = {
  runner: 'local',
  resources: 'small',
  namespace: 'default',
  currency: 'USD',
  retry: { limit: 0, initial: '1s', factor: 2, max: '5m', jitter: 'full' },
} as const;

/** Builds the plan from a manifest that passed every check. Pure and deterministic. */
export function buildPlan(
  manifest: Manifest,
  models: readonly TaskModel[],
  declaredOrder?: readonly number[],
  blueprint?: BlueprintPin,
): Plan {
  const spec = manifest.spec;
  const defaults = spec.defaults ?? {};
  // Expand matrices; expanded index order = declaration order, then matrix order.
  const expanded: { model: TaskModel; matrix?: Record<string, string | number | boolean>; id: string }[] = [];
  const expansionsOf: number[][] = [];
  for (const model of models) {
    if (model.matrixKeys.length === 0 || !model.task.matrix) {
      // The common case: the task is its own single expansion.
      expansionsOf.push([expanded.length]);
      expanded.push({ model, id: model.id });
      continue;
    }
    const indices: number[] = [];
    for (const combo of combinations(model)) {
      indices.push(expanded.length);
      expanded.push({
        model,
        ...(combo ? { matrix: combo } : {}),
        id: combo
          ? `${model.id}[${Object.entries(combo)
              .map(([k, v]) => `${k}=${String(v)}`)
              .join(',')}]`
          : model.id,
      });
    }
    expansionsOf.push(indices);
  }
  // The analysis already ordered the declared tasks; without matrices that is the plan's order.
  const precomputedOrder = declaredOrder && expanded.length === models.length ? declaredOrder : undefined;
  // model.deps index `models` directly (analyze builds both in the same order).
  // Without matrices every task expands to itself: its deps are already the plan indices.
  const needs: number[][] =
    expanded.length === models.length
      ? models.map((m) => m.deps)
      : expanded.map(({ model }) => model.deps.flatMap((d) => expansionsOf[d] as number[]));
  const order = precomputedOrder ?? topologicalOrder(needs).order;
  const durations = new Map<string, number>();
  const ms = (text: string): number => {
    let value = durations.get(text);
    if (value === undefined) durations.set(text, (value = parseDuration(text)));
    return value;
  };
  let sharedRetry: PlanTask['retry'] | undefined;
  const tasks: PlanTask[] = [];
  const taskTexts: string[] = [];
  // Whether all user data (maps from the manifest) enumerates in canonical order; see canonical-fast.ts.
  let allOrdered = true;
  const edges: Plan['edges'] = [];
  for (const i of order) {
    const { model, matrix, id } = expanded[i] as (typeof expanded)[number];
    const task = model.task;
    const env: Record<string, string> = {};
    // Defaults first, the task's own values override (no intermediate merged object).
    if (defaults.env) for (const k of Object.keys(defaults.env)) env[k] = String(defaults.env[k]);
    if (task.env) for (const k of Object.keys(task.env)) env[k] = String(task.env[k]);
    const action = actionOf(model, env);
    // Tasks without their own retry share one (immutable) merged policy: fewer allocations.
    const retry =
      task.retry === undefined
        ? (sharedRetry ??= mergeRetry(defaults.retry, undefined, ms))
        : mergeRetry(defaults.retry, task.retry, ms);
    const cacheEnabled =
      task.cache?.never === true ? false : (task.cache?.enabled ?? defaults.cache?.enabled ?? false);
    const ttl = task.cache?.ttl ?? defaults.cache?.ttl;
    const timeout = task.timeout ?? defaults.timeout;
    const needIndices = needs[i] as number[];
    const taskNeeds: string[] = new Array<string>(needIndices.length);
    for (let k = 0; k < needIndices.length; k++)
      taskNeeds[k] = (expanded[needIndices[k] as number] as (typeof expanded)[number]).id;
    // Keys in canonical (sorted) order, so canonical JSON is plain JSON.stringify (canonical-fast.ts).
    // Members are added in sorted key order (insertion order is enumeration order), so canonical
    // JSON is plain JSON.stringify (canonical-fast.ts). Assignments, not conditional spreads: a
    // spread in an object literal is a runtime call per member.
    const draft: Record<string, unknown> = { action };
    // Folder paths are kept without their trailing `/`: `dist/` and `dist` are the same artifact.
    if (task.artifacts) draft.artifacts = task.artifacts.map((p) => p.replace(/\/+$/, ''));
    draft.cache =
      cacheEnabled && ttl !== undefined ? { enabled: true, ttlMs: ms(ttl) } : { enabled: cacheEnabled };
    draft.declaredId = model.id;
    draft.definitionDigest = undefined; // filled by sealTask, in this key position
    draft.env = sortOwnKeys(env);
    if (task.hostAccess === true) draft.hostAccess = true;
    draft.id = id;
    if (matrix) draft.matrix = matrix;
    draft.needs = taskNeeds;
    if (task.network === 'none') draft.network = 'none';
    // Only `fail` is carried: `retry` is the default, so plans (and digests) without it are unchanged.
    if (task.onInterrupt === 'fail') draft.onInterrupt = 'fail';
    draft.outputs = model.outputs.slice();
    // Only a deferrable placement is carried: plans (and digests) of other tasks are unchanged.
    if (task.placement?.deferrable === true)
      draft.placement = { deadlineMs: ms(task.placement.deadline), deferrable: true };
    draft.resources = task.resources ?? defaults.resources ?? PlanDefaults.resources;
    draft.retry = retry;
    if (task.ifSkipped === 'run') draft.runIfSkipped = true;
    draft.runner = task.runner ?? defaults.runner ?? PlanDefaults.runner;
    draft.secrets = model.secrets === undefined ? [] : [...model.secrets].sort();
    if (timeout !== undefined) draft.timeoutMs = ms(timeout);
    if (task.when !== undefined) draft.when = task.when;
    draft.with = task.with === undefined ? {} : sortDeep(task.with);
    const planTask = draft as unknown as PlanTask;
    const ordered =
      userDataInOrder(planTask.with) && userDataInOrder(planTask.env) && userDataInOrder(planTask.matrix);
    allOrdered &&= ordered;
    taskTexts.push(sealTask(planTask, ordered));
    tasks.push(planTask);
    for (const from of taskNeeds) edges.push({ from, to: id });
  }
  // Keys in sorted order (see planTask above); `digest` is filled last, in its position.
  const plan: Plan = {
    apiVersion: 'maestro/v1',
    ...(spec.approvals
      ? { approvals: { from: [...(spec.approvals.from ?? [])], required: spec.approvals.required } }
      : {}),
    // The blueprint the workflow was made from, pinned (exact version, folder digest): a new
    // version of it changes the plan's digest, as a task's new code does.
    ...(blueprint
      ? {
          blueprint: {
            digest: blueprint.digest,
            name: blueprint.name,
            uses: blueprint.uses,
            version: blueprint.version,
          },
        }
      : {}),
    ...(spec.budget
      ? { budget: { currency: spec.budget.currency ?? PlanDefaults.currency, limit: spec.budget.limit } }
      : {}),
    digest: undefined as unknown as string,
    edges,
    kind: 'Plan',
    params: sortKeys(
      Object.fromEntries(
        Object.entries(spec.params ?? {}).map(([name, p]) => [
          name,
          {
            ...('default' in p ? { default: sortDeep(p.default) } : {}),
            ...(p.description === undefined ? {} : { description: p.description }),
            required: !('default' in p),
            type: p.type,
          },
        ]),
      ),
    ),
    ...(spec.policy ? { policy: sortKeys(spec.policy) } : {}),
    tasks,
    ...(spec.timeout === undefined ? {} : { timeoutMs: ms(spec.timeout) }),
    triggers: triggersOf(spec.triggers),
    workflow: {
      kind: manifest.kind,
      labels: sortKeys(manifest.metadata.labels ?? {}),
      name: manifest.metadata.name,
      namespace: manifest.metadata.namespace ?? PlanDefaults.namespace,
    },
  };
  allOrdered &&=
    userDataInOrder(plan.params) && userDataInOrder(plan.workflow) && userDataInOrder(plan.policy);
  plan.digest = planDigest(plan, allOrdered, taskTexts);
  return plan;
}

function combinations(model: TaskModel): (Record<string, string | number | boolean> | undefined)[] {
  const matrix = model.task.matrix as Record<string, (string | number | boolean)[]> | undefined;
  if (!matrix || model.matrixKeys.length === 0) return [undefined];
  let combos: Record<string, string | number | boolean>[] = [{}];
  for (const key of model.matrixKeys)
    combos = combos.flatMap((c) => (matrix[key] ?? []).map((v) => ({ ...c, [key]: v })));
  return combos;
}

/**
 * The action. A `run` string keeps its text, with each expression replaced by a reference to an
 * environment variable bound to the expression: values reach the shell as data, never as code.
 */
function actionOf(model: TaskModel, env: Record<string, string>): PlanAction {
  const task = model.task;
  if (typeof task.run === 'string') {
    const numbers = new Map<string, number>();
    let script = '';
    let at = 0;
    for (const ref of (model.runScan ?? scanTemplate(task.run)).refs) {
      let n = numbers.get(ref.text);
      if (n === undefined) {
        n = numbers.size;
        numbers.set(ref.text, n);
        env[`MAESTRO_EXPR_${n}`] = ref.text;
      }
      script += task.run.slice(at, ref.start) + `\${MAESTRO_EXPR_${n}}`;
      at = ref.end;
    }
    return { script: (script + task.run.slice(at)).replaceAll('$${', '${'), type: 'shell' };
  }
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

function mergeRetry(
  base: ManifestRetry | undefined,
  own: ManifestRetry | undefined,
  ms: (text: string) => number,
): PlanTask['retry'] {
  const d = PlanDefaults.retry;
  const backoff = { ...base?.backoff, ...own?.backoff };
  const maxDuration = backoff.maxDuration;
  return {
    backoff: {
      factor: backoff.factor ?? d.factor,
      initialMs: ms(backoff.initial ?? d.initial),
      ...(maxDuration === undefined ? {} : { maxDurationMs: ms(maxDuration) }),
      maxMs: ms(backoff.max ?? d.max),
    },
    jitter: own?.jitter ?? base?.jitter ?? d.jitter,
    limit: own?.limit ?? base?.limit ?? d.limit,
  };
}

/** A shallow copy with keys inserted in sorted order. */
function sortKeys<T extends object>(record: T): T {
  const keys = Object.keys(record);
  if (keys.every((k, i) => i === 0 || (keys[i - 1] as string) < k)) return { ...record };
  const out: Record<string, unknown> = {};
  for (const key of keys.sort()) out[key] = (record as Record<string, unknown>)[key];
  return out as T;
}

/** `record` itself when its keys are already sorted (it is the planner's own object), else a sorted copy. */
function sortOwnKeys<T extends object>(record: T): T {
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++)
    if (!((keys[i - 1] as string) < (keys[i] as string))) return sortKeys(record);
  return record;
}

/** A deep copy with every object's keys inserted in sorted order (user data: `with`). */
function sortDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortDeep);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortDeep((value as Record<string, unknown>)[key]);
  return out;
}

function triggersOf(triggers: Manifest['spec']['triggers']): Plan['triggers'] {
  if (!triggers) return { manual: true };
  const filter = (f: { branches?: string[]; paths?: string[] } | undefined) =>
    f
      ? { ...(f.branches ? { branches: [...f.branches] } : {}), ...(f.paths ? { paths: [...f.paths] } : {}) }
      : undefined;
  const push = filter(triggers.push);
  const pullRequest = filter(triggers.pull_request);
  return {
    ...(triggers.manual === undefined ? {} : { manual: triggers.manual }),
    ...(pullRequest ? { pull_request: pullRequest } : {}),
    ...(push ? { push } : {}),
    ...(triggers.schedule === undefined
      ? {}
      : {
          schedule: (Array.isArray(triggers.schedule) ? triggers.schedule : [triggers.schedule]).map(
            normaliseSchedule,
          ),
        }),
  };
}
