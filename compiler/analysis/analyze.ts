import type { TaskCatalog } from '../../core/index.ts';
import { checkReservedEnv } from '../check-env.ts';
import { checkSchedules, checkTriggerFilters } from '../check-triggers.ts';
import type { Finding } from '../finding.ts';
import { checkConditions } from './conditions.ts';
import { checkCycles } from './cycles.ts';
import { checkMatrices } from './matrix.ts';
import { checkNeeds } from './needs.ts';
import { checkParams } from './params.ts';
import { newState, type Pass, type TaskModel } from './state.ts';
import { declareTasks, indexTasks } from './tasks.ts';
import { checkExpressions } from './templates.ts';
import { resolveTaskUses } from './uses.ts';

/**
 * The semantic passes, in order: each reads what the ones above it filled into the state and
 * returns its findings. A new check is one more file with one more entry here; a pass that
 * rewrites the manifest (expansion) belongs before `declareTasks`.
 */
export const passes: readonly Pass[] = [
  checkParams,
  declareTasks, // -> models, byId
  resolveTaskUses, // -> model.entry, catalog outputs
  checkMatrices,
  indexTasks, // -> taskInfo (needs every output)
  checkExpressions, // -> runSpans, secrets, deps
  checkConditions, // -> deps
  checkNeeds, // -> deps
  checkCycles, // -> deps ascending and unique, order
  (state) => checkTriggerFilters(state.manifest),
  (state) => checkSchedules(state.manifest),
  (state) => checkReservedEnv(state.manifest),
];

/**
 * Ids, catalog references, `with` inputs, expressions, `when`, needs, the DAG, triggers and
 * reserved env. Defensive about shape (it also runs when the schema found problems, so every
 * problem is reported at once).
 */
export function analyze(
  manifest: unknown,
  catalog: TaskCatalog,
): { findings: Finding[]; tasks: TaskModel[]; order: number[] } {
  const state = newState(manifest, catalog);
  const findings: Finding[] = [];
  for (const pass of passes) for (const finding of pass(state)) findings.push(finding);
  return { findings, tasks: state.models, order: state.order };
}
