import { digestOf } from '../core/index.ts';
import type { Manifest, ManifestRetry, Plan, PlanAction, PlanTask } from '../core/index.ts';
import type { TaskModel } from './analyze.ts';
import { topologicalOrder } from './dag.ts';
import { parseDuration } from './duration.ts';
import { scanTemplate } from './expressions.ts';

/** Defaults the plan applies where neither the task nor `spec.defaults` says. */
export const PlanDefaults = {
  runner: 'local',
  resources: 'small',
  namespace: 'default',
  currency: 'USD',
  retry: { limit: 0, initial: '1s', factor: 2, max: '5m', jitter: 'full' },
} as const;

/** Builds the plan from a manifest that passed every check. Pure and deterministic. */
export function buildPlan(manifest: Manifest, models: readonly TaskModel[]): Plan {
  const spec = manifest.spec;
  const defaults = spec.defaults ?? {};
  // Expand matrices; expanded index order = declaration order, then matrix order.
  const expanded: { model: TaskModel; matrix?: Record<string, string | number | boolean>; id: string }[] = [];
  const expansionsOf: number[][] = [];
  for (const model of models) {
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
  const positionOf = new Map(models.map((m, i) => [m, i]));
  const needs = expanded.map(({ model }) =>
    model.deps.flatMap((d) => expansionsOf[positionOf.get(models[d] as TaskModel) as number] as number[]),
  );
  const { order } = topologicalOrder(needs);
  const tasks: PlanTask[] = [];
  const edges: Plan['edges'] = [];
  for (const i of order) {
    const { model, matrix, id } = expanded[i] as (typeof expanded)[number];
    const task = model.task;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...defaults.env, ...task.env })) env[k] = String(v);
    const action = actionOf(model, env);
    const retry = mergeRetry(defaults.retry, task.retry);
    const cacheEnabled =
      task.cache?.never === true ? false : (task.cache?.enabled ?? defaults.cache?.enabled ?? false);
    const ttl = task.cache?.ttl ?? defaults.cache?.ttl;
    const timeout = task.timeout ?? defaults.timeout;
    const taskNeeds = (needs[i] as number[]).map((j) => (expanded[j] as (typeof expanded)[number]).id);
    const planTask: Omit<PlanTask, 'definitionDigest'> = {
      id,
      declaredId: model.id,
      ...(matrix ? { matrix } : {}),
      action,
      with: { ...(task.with ?? {}) },
      env,
      needs: taskNeeds,
      ...(task.when === undefined ? {} : { when: task.when }),
      ...(task.ifSkipped === 'run' ? { runIfSkipped: true } : {}),
      retry,
      ...(timeout === undefined ? {} : { timeoutMs: parseDuration(timeout) }),
      cache: {
        enabled: cacheEnabled,
        ...(cacheEnabled && ttl !== undefined ? { ttlMs: parseDuration(ttl) } : {}),
      },
      runner: task.runner ?? defaults.runner ?? PlanDefaults.runner,
      resources: task.resources ?? defaults.resources ?? PlanDefaults.resources,
      outputs: [...model.outputs],
      secrets: [...model.secrets].sort(),
    };
    tasks.push({ ...planTask, definitionDigest: digestOf(planTask) });
    for (const from of taskNeeds) edges.push({ from, to: id });
  }
  const body: Omit<Plan, 'digest'> = {
    apiVersion: 'maestro/v1',
    kind: 'Plan',
    workflow: {
      kind: manifest.kind,
      name: manifest.metadata.name,
      namespace: manifest.metadata.namespace ?? PlanDefaults.namespace,
      labels: { ...(manifest.metadata.labels ?? {}) },
    },
    params: Object.fromEntries(
      Object.entries(spec.params ?? {}).map(([name, p]) => [
        name,
        {
          type: p.type,
          required: !('default' in p),
          ...('default' in p ? { default: p.default } : {}),
          ...(p.description === undefined ? {} : { description: p.description }),
        },
      ]),
    ),
    ...(spec.policy ? { policy: { ...spec.policy } } : {}),
    ...(spec.approvals
      ? { approvals: { required: spec.approvals.required, from: [...(spec.approvals.from ?? [])] } }
      : {}),
    ...(spec.budget
      ? { budget: { limit: spec.budget.limit, currency: spec.budget.currency ?? PlanDefaults.currency } }
      : {}),
    triggers: triggersOf(spec.triggers),
    ...(spec.timeout === undefined ? {} : { timeoutMs: parseDuration(spec.timeout) }),
    tasks,
    edges,
  };
  return { ...body, digest: digestOf(body) } as Plan;
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
    for (const ref of scanTemplate(task.run).refs) {
      let n = numbers.get(ref.text);
      if (n === undefined) {
        n = numbers.size;
        numbers.set(ref.text, n);
        env[`MAESTRO_EXPR_${n}`] = ref.text;
      }
      script += task.run.slice(at, ref.start) + `\${MAESTRO_EXPR_${n}}`;
      at = ref.end;
    }
    return { type: 'shell', script: (script + task.run.slice(at)).replaceAll('$${', '${') };
  }
  if (Array.isArray(task.run)) return { type: 'argv', argv: [...task.run] as [string, ...string[]] };
  if (task.uses !== undefined && model.entry) {
    const e = model.entry;
    return { type: 'catalog', ref: task.uses, name: e.name, version: e.version, digest: e.digest };
  }
  return {
    type: 'container',
    image: task.image as string,
    ...(task.command ? { command: [...task.command] } : {}),
    ...(task.args ? { args: [...task.args] } : {}),
  };
}

function mergeRetry(base: ManifestRetry | undefined, own: ManifestRetry | undefined): PlanTask['retry'] {
  const d = PlanDefaults.retry;
  const backoff = { ...base?.backoff, ...own?.backoff };
  const maxDuration = backoff.maxDuration;
  return {
    limit: own?.limit ?? base?.limit ?? d.limit,
    backoff: {
      initialMs: parseDuration(backoff.initial ?? d.initial),
      factor: backoff.factor ?? d.factor,
      maxMs: parseDuration(backoff.max ?? d.max),
      ...(maxDuration === undefined ? {} : { maxDurationMs: parseDuration(maxDuration) }),
    },
    jitter: own?.jitter ?? base?.jitter ?? d.jitter,
  };
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
    ...(push ? { push } : {}),
    ...(pullRequest ? { pull_request: pullRequest } : {}),
    ...(triggers.schedule === undefined
      ? {}
      : { schedule: Array.isArray(triggers.schedule) ? [...triggers.schedule] : [triggers.schedule] }),
    ...(triggers.manual === undefined ? {} : { manual: triggers.manual }),
  };
}
