import type { ManifestTask } from '../../core/index.ts';
import { Code } from '../codes.ts';
import type { Finding } from '../finding.ts';
import { pointerOf } from '../finding.ts';
import { reservedKeys } from '../limits.ts';
import { isRecord, type AnalysisState } from './state.ts';

/** The keys of a task without a matrix, shared (frozen: nothing may add to it). */
const noMatrixKeys = Object.freeze([]) as unknown as string[];

function holdsReservedName(list: readonly unknown[]): boolean {
  for (const o of list) if (reservedKeys.has(String(o))) return true;
  return false;
}

/** The strings of `list`, in an array of exactly their number (`filter` reserves spare slots, and the analysis keeps one per task). */
function stringsOf(list: readonly unknown[]): string[] {
  let count = 0;
  for (const o of list) if (typeof o === 'string') count++;
  if (count === list.length) return list.slice() as string[];
  const out = new Array<string>(count);
  let k = 0;
  for (const o of list) if (typeof o === 'string') out[k++] = o;
  return out;
}

/**
 * Declares the tasks: one model per task with a string id (the first of each id), reserved
 * names and duplicate ids refused. Every later pass works on `state.models`.
 */
export function declareTasks(state: AnalysisState): Finding[] {
  const findings: Finding[] = [];
  const rawTasks = Array.isArray(state.spec.tasks) ? state.spec.tasks : [];
  for (let index = 0; index < rawTasks.length; index++) {
    const raw: unknown = rawTasks[index];
    if (!isRecord(raw) || typeof raw.id !== 'string') continue;
    const id = raw.id;
    const outputs = Array.isArray(raw.outputs) ? raw.outputs : undefined;
    const reservedId = reservedKeys.has(id);
    if (reservedId || (outputs !== undefined && holdsReservedName(outputs)))
      findings.push({
        code: Code.reservedKey,
        severity: 'error',
        message: `\`${reservedId ? id : 'outputs'}\` uses a reserved name (__proto__, constructor, prototype)`,
        pointer: pointerOf('spec', 'tasks', index, reservedId ? 'id' : 'outputs'),
      });
    const earlier = state.byId.get(id);
    if (earlier !== undefined) {
      findings.push({
        code: Code.duplicateTaskId,
        severity: 'error',
        message: `duplicate task id \`${id}\` (also task #${earlier + 1})`,
        hint: 'task ids must be unique',
        pointer: pointerOf('spec', 'tasks', index, 'id'),
      });
      continue;
    }
    state.byId.set(id, state.models.length);
    state.models.push({
      index,
      id,
      task: raw as unknown as ManifestTask,
      // Members later passes set, present from the start: kept in the object, no second store.
      entry: undefined,
      secrets: undefined,
      runSpans: undefined,
      deps: [],
      outputs: outputs ? stringsOf(outputs) : [],
      matrixKeys: isRecord(raw.matrix) ? Object.keys(raw.matrix).sort() : noMatrixKeys,
    });
  }
  return findings;
}

/**
 * Makes the declared tasks (their own outputs and their catalog entry's) available to reference
 * checks: a view over `byId` and the models, nothing copied.
 */
export function indexTasks(state: AnalysisState): Finding[] {
  const { byId, models } = state;
  state.taskInfo = {
    get: (id) => {
      const i = byId.get(id);
      return i === undefined ? undefined : models[i];
    },
    keys: () => byId.keys(),
  };
  return [];
}
