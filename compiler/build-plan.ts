import type { Manifest, Plan, PlanTask } from '../core/index.ts';
import type { BlueprintPin } from './blueprint/expand.ts';
import type { TaskModel } from './analysis/index.ts';
import { planDigest, sealTask, userDataInOrder } from './canonical-fast.ts';
import { topologicalOrder } from './dag.ts';
import { PlanDefaults, sortDeep, TaskPlanner, type Expansion } from './plan-task.ts';
import { normaliseSchedule } from './schedule.ts';

export { PlanDefaults } from './plan-task.ts';

/** Builds the plan from a manifest that passed every check. Pure and deterministic. */
export function buildPlan(
  manifest: Manifest,
  models: readonly TaskModel[],
  declaredOrder?: readonly number[],
  blueprint?: BlueprintPin,
): Plan {
  const spec = manifest.spec;
  const defaults = spec.defaults ?? {};
  const { expanded, expansionsOf } = expandMatrices(models);
  // model.deps index `models` directly (analyze builds both in the same order).
  // Without matrices every task expands to itself: its deps are already the plan indices, and
  // the analysis' topological order is the plan's.
  const unexpanded = expanded.length === models.length;
  const needs: number[][] = unexpanded
    ? models.map((m) => m.deps)
    : expanded.map(({ model }) => model.deps.flatMap((d) => expansionsOf[d] as number[]));
  const order = (unexpanded ? declaredOrder : undefined) ?? topologicalOrder(needs).order;
  const planner = new TaskPlanner(defaults);
  const ms = (text: string) => planner.ms(text);
  const tasks: PlanTask[] = [];
  const taskTexts: string[] = [];
  // Whether all user data (maps from the manifest) enumerates in canonical order; see canonical-fast.ts.
  let allOrdered = true;
  const edges: Plan['edges'] = [];
  for (const i of order) {
    const expansion = expanded[i] as Expansion;
    const id = expansion.id;
    const needIndices = needs[i] as number[];
    const taskNeeds: string[] = new Array<string>(needIndices.length);
    for (let k = 0; k < needIndices.length; k++)
      taskNeeds[k] = (expanded[needIndices[k] as number] as Expansion).id;
    const planTask = planner.task(expansion, taskNeeds);
    const ordered = userDataInOrder(planTask.with) && userDataInOrder(planTask.matrix);
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

/** Expands matrices; expanded index order = declaration order, then matrix order. */
function expandMatrices(models: readonly TaskModel[]): { expanded: Expansion[]; expansionsOf: number[][] } {
  const expanded: Expansion[] = [];
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
  return { expanded, expansionsOf };
}

function combinations(model: TaskModel): (Record<string, string | number | boolean> | undefined)[] {
  const matrix = model.task.matrix as Record<string, (string | number | boolean)[]> | undefined;
  if (!matrix || model.matrixKeys.length === 0) return [undefined];
  let combos: Record<string, string | number | boolean>[] = [{}];
  for (const key of model.matrixKeys)
    combos = combos.flatMap((c) => (matrix[key] ?? []).map((v) => ({ ...c, [key]: v })));
  return combos;
}

/** A shallow copy with keys inserted in sorted order. */
function sortKeys<T extends object>(record: T): T {
  const keys = Object.keys(record);
  if (keys.every((k, i) => i === 0 || (keys[i - 1] as string) < k)) return { ...record };
  const out: Record<string, unknown> = {};
  for (const key of keys.sort()) out[key] = (record as Record<string, unknown>)[key];
  return out as T;
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
