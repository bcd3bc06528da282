import type { Manifest, Plan, PlanTask } from '../core/index.ts';
import type { BlueprintPin } from './blueprint/expand.ts';
import type { TaskModel } from './analysis/index.ts';
import { userDataInOrder } from './canonical-fast.ts';
import { topologicalOrder } from './dag.ts';
import { PlanHasher } from './plan-hasher.ts';
import { PlanDefaults, sortDeep, TaskPlanner, type Expansion } from './plan-task.ts';
import { normaliseSchedule } from './schedule.ts';

export { PlanDefaults } from './plan-task.ts';

/**
 * Builds the plan from a manifest that passed every check. Pure and deterministic. The plan's
 * members are in sorted key order (so canonical JSON is JSON.stringify, canonical-fast.ts); its
 * digest is hashed as the tasks are built.
 */
export function buildPlan(
  manifest: Manifest,
  models: readonly TaskModel[],
  declaredOrder?: readonly number[],
  blueprint?: BlueprintPin,
): Plan {
  const planner = new TaskPlanner(manifest.spec.defaults ?? {});
  const { expanded, expansionsOf } = expandMatrices(models);
  // model.deps index `models` directly (analyze builds both in the same order). Without
  // matrices every task expands to itself: its deps are already the plan indices, and the
  // analysis' topological order is the plan's.
  const unexpanded = expanded.length === models.length;
  const needs: number[][] = unexpanded
    ? models.map((m) => m.deps)
    : expanded.map(({ model }) => model.deps.flatMap((d) => expansionsOf[d] as number[]));
  const order = (unexpanded ? declaredOrder : undefined) ?? topologicalOrder(needs).order;
  const needIds = order.map((i) => idsOf(needs[i] as number[], expanded));
  const head = planHead(manifest, blueprint, edgesOf(order, needIds, expanded));
  const hasher = new PlanHasher(head, userDataInOrder(head.params) && userDataInOrder(head.policy));
  const tasks: PlanTask[] = [];
  for (let k = 0; k < order.length; k++) {
    const task = planner.task(expanded[order[k] as number] as Expansion, needIds[k] as string[]);
    hasher.task(task, userDataInOrder(task.with) && userDataInOrder(task.matrix));
    tasks.push(task);
  }
  const tail = planTail(manifest, planner);
  // Members appended in key order: `tasks` sorts after the head's, before the tail's.
  const plan = Object.assign(head, { tasks }, tail) as Plan;
  plan.digest = hasher.finish(tail, userDataInOrder(tail.workflow));
  return plan;
}

/** The plan ids of the tasks at `indices` of `expanded`. */
function idsOf(indices: readonly number[], expanded: readonly Expansion[]): string[] {
  const ids = new Array<string>(indices.length);
  for (let k = 0; k < indices.length; k++) ids[k] = (expanded[indices[k] as number] as Expansion).id;
  return ids;
}

/** One edge per need, in plan order then need order. */
function edgesOf(order: readonly number[], needIds: readonly string[][], expanded: readonly Expansion[]) {
  const edges: Plan['edges'] = [];
  for (let k = 0; k < order.length; k++) {
    const to = (expanded[order[k] as number] as Expansion).id;
    for (const from of needIds[k] as string[]) edges.push({ from, to });
  }
  return edges;
}

type PlanHead = Pick<
  Plan,
  'apiVersion' | 'approvals' | 'blueprint' | 'budget' | 'digest' | 'edges' | 'kind' | 'params' | 'policy'
>;

/** The plan's members that sort before `tasks`, `digest` undefined in its position. */
function planHead(manifest: Manifest, blueprint: BlueprintPin | undefined, edges: Plan['edges']): PlanHead {
  const spec = manifest.spec;
  return {
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
  };
}

type PlanTail = Pick<Plan, 'timeoutMs' | 'triggers' | 'workflow'>;

/** The plan's members that sort after `tasks`. */
function planTail(manifest: Manifest, planner: TaskPlanner): PlanTail {
  const spec = manifest.spec;
  return {
    ...(spec.timeout === undefined ? {} : { timeoutMs: planner.ms(spec.timeout) }),
    triggers: triggersOf(spec.triggers),
    workflow: {
      kind: manifest.kind,
      labels: sortKeys(manifest.metadata.labels ?? {}),
      name: manifest.metadata.name,
      namespace: manifest.metadata.namespace ?? PlanDefaults.namespace,
    },
  };
}

/**
 * Expands matrices; expanded index order = declaration order, then matrix order. `expansionsOf`
 * (declared index → its expanded indices) is empty when no task has a matrix.
 */
function expandMatrices(models: readonly TaskModel[]): { expanded: Expansion[]; expansionsOf: number[][] } {
  const expanded: Expansion[] = [];
  // Made at the first matrix: until then each task's only expansion has its own index.
  let expansionsOf: number[][] | undefined;
  for (let d = 0; d < models.length; d++) {
    const model = models[d] as TaskModel;
    if (model.matrixKeys.length === 0 || !model.task.matrix) {
      // The common case: the task is its own single expansion.
      expansionsOf?.push([expanded.length]);
      expanded.push({ model, id: model.id });
      continue;
    }
    expansionsOf ??= Array.from({ length: d }, (_, i) => [i]);
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
  return { expanded, expansionsOf: expansionsOf ?? [] };
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
