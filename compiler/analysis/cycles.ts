import type { ReferenceContext } from '../check-references.ts';
import { Code } from '../codes.ts';
import { conditionChecker } from '../condition.ts';
import { findCycles, topologicalOrder } from '../dag.ts';
import type { Finding } from '../finding.ts';
import { conditionPlace } from './conditions.ts';
import type { AnalysisState, Rec, TaskModel } from './state.ts';
import { taskPointer } from './state.ts';
import { checkTemplates, templateFields } from './templates.ts';

/**
 * The DAG: each task's dependencies made ascending and unique, the topological order, and one
 * finding per dependency cycle (searched only when the sort leaves tasks over).
 */
export function checkCycles(state: AnalysisState): Finding[] {
  const { models } = state;
  for (const model of models) model.deps = ascendingUnique(model.deps);
  const needs = models.map((m) => m.deps);
  const { order, blocked } = topologicalOrder(needs);
  state.order = order;
  if (blocked.length === 0) return [];
  const findings: Finding[] = [];
  for (const cycle of findCycles(needs, blocked)) {
    const ids = cycle.map((i) => (models[i] as TaskModel).id);
    const first = ids[0] as string;
    const place = edgePlace(state, models[cycle[0] as number] as TaskModel, ids[1] ?? first);
    findings.push({
      code: Code.cycle,
      severity: 'error',
      message: `dependency cycle: ${[...ids, first].join(' → ')}`,
      hint: 'remove one of these dependencies (a `needs` entry or an output reference)',
      pointer: place.pointer,
      ...(place.span ? { span: place.span } : {}),
    });
  }
  return findings;
}

/**
 * Sorted, without repeats, exactly as long (the passes pushed to an empty array, which reserves
 * 17 slots, and the plan is built while these are alive).
 */
function ascendingUnique(deps: number[]): number[] {
  let ordered = true;
  for (let k = 1; k < deps.length; k++)
    if ((deps[k - 1] as number) >= (deps[k] as number)) {
      ordered = false;
      break;
    }
  if (ordered) return deps.length === 0 ? deps : deps.slice();
  // Insertion sort of a copy, repeats dropped in place: lists are short, one array, no comparator calls.
  const sorted = deps.slice();
  let kept = 0;
  for (let k = 0; k < sorted.length; k++) {
    const d = sorted[k] as number;
    let j = kept - 1;
    while (j >= 0 && (sorted[j] as number) > d) j--;
    if (j >= 0 && sorted[j] === d) continue;
    for (let m = kept; m > j + 1; m--) sorted[m] = sorted[m - 1] as number;
    sorted[j + 1] = d;
    kept++;
  }
  sorted.length = kept;
  return sorted;
}

/**
 * Where `model` depends on task `to` is written: its `needs` entry, else the first expression
 * or condition reference to that task's outputs. Computed only to place a cycle diagnostic.
 */
function edgePlace(state: AnalysisState, model: TaskModel, to: string): Pick<Finding, 'pointer' | 'span'> {
  const raw = model.task as unknown as Rec;
  if (Array.isArray(raw.needs)) {
    const j = raw.needs.indexOf(to);
    if (j !== -1) return { pointer: taskPointer(model, 'needs', j) };
  }
  const context: ReferenceContext = {
    params: state.paramNames,
    tasks: state.taskInfo,
    matrixKeys: new Set(model.matrixKeys),
    selfId: model.id,
    allowSecrets: true,
  };
  let found: Pick<Finding, 'pointer' | 'span'> | undefined;
  for (const field of templateFields) {
    checkTemplates(raw[field], ['spec', 'tasks', model.index, field], context, [], (use, place) => {
      if (found === undefined && use.dependsOn === to) found = place();
    });
    if (found) return found;
  }
  if (typeof raw.when === 'string') {
    const refs = conditionChecker({})(raw.when).refs;
    const k = refs.findIndex((r) => r.path[0] === 'tasks' && r.path[1] === to);
    if (k !== -1) return conditionPlace(raw.when, refs, k, taskPointer(model, 'when'));
  }
  return { pointer: taskPointer(model, 'when') };
}
