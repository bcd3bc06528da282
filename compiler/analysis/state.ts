import type { CatalogEntry, ManifestTask, TaskCatalog } from '../../core/index.ts';
import type { ReferenceContext } from '../check-references.ts';
import type { Finding } from '../finding.ts';
import { pointerOf } from '../finding.ts';

/** A declared task after checking: what the planner needs. */
export interface TaskModel {
  index: number;
  id: string;
  task: ManifestTask;
  entry?: CatalogEntry;
  /**
   * Declared-task indices this task waits for (explicit `needs` and output references). Passes
   * append (duplicates allowed); the cycle pass leaves it ascending and unique.
   */
  deps: number[];
  /** Secrets the task's expressions name; absent when none. */
  secrets?: Set<string>;
  outputs: string[];
  matrixKeys: string[];
  /** Where the expressions of a `run` string are (spansOf), scanned once (templates pass) for the planner. */
  runSpans?: readonly number[];
}

export type Rec = Record<string, unknown>;
export const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * What the passes share. Each pass reads what earlier passes filled in, may add to it, and
 * returns its findings; the list and its order are in analyze.ts. The manifest may be of any
 * shape (the analysis also runs when the schema found problems, so every problem is reported at
 * once): passes read it defensively.
 */
export interface AnalysisState {
  readonly manifest: unknown;
  /** `manifest.spec` when it is a mapping, else `{}`. */
  readonly spec: Rec;
  readonly catalog: TaskCatalog;
  /** `spec.params` when it is a mapping, else `{}`. */
  readonly params: Rec;
  readonly paramNames: ReadonlySet<string>;
  /** Declared type of each param that has one (params pass). */
  readonly paramTypes: Record<string, string>;
  /** Declared id → index in `models` (tasks pass). */
  readonly byId: Map<string, number>;
  /** One per task with a string id, first declaration of each id, in declaration order. */
  readonly models: TaskModel[];
  /** Declared id → outputs and whether it has a matrix (index pass, after `uses` resolved). */
  taskInfo: ReferenceContext['tasks'];
  /** Topological order of `models` (cycle pass). */
  order: number[];
}

/** One check over the manifest: its findings (Tekton's `errs.Also(validateX(…))` shape). */
export type Pass = (state: AnalysisState) => readonly Finding[];

export const noFindings: readonly Finding[] = Object.freeze([]);

export function newState(manifest: unknown, catalog: TaskCatalog): AnalysisState {
  const spec = isRecord(manifest) && isRecord(manifest.spec) ? manifest.spec : {};
  const params = isRecord(spec.params) ? spec.params : {};
  return {
    manifest,
    spec,
    catalog,
    params,
    paramNames: new Set(Object.keys(params)),
    paramTypes: {},
    byId: new Map(),
    models: [],
    taskInfo: new Map(),
    order: [],
  };
}

/** JSON pointer into the declared task of `model`. */
export function taskPointer(model: Pick<TaskModel, 'index'>, ...tokens: (string | number)[]): string {
  return pointerOf('spec', 'tasks', model.index, ...tokens);
}

const noKeys: ReadonlySet<string> = new Set();

/** What a reference written inside `model` may point at. */
export function taskContext(state: AnalysisState, model: TaskModel, allowSecrets: boolean): ReferenceContext {
  return {
    params: state.paramNames,
    tasks: state.taskInfo,
    matrixKeys: model.matrixKeys.length === 0 ? noKeys : new Set(model.matrixKeys),
    selfId: model.id,
    allowSecrets,
  };
}
