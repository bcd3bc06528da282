import type { CatalogEntry, ManifestTask, TaskCatalog } from '../core/index.ts';
import { checkReference } from './check-references.ts';
import type { ReferenceContext } from './check-references.ts';
import { Code } from './codes.ts';
import { conditionChecker } from './condition.ts';
import type { ConditionCheck } from './condition.ts';
import { findCycles, topologicalOrder } from './dag.ts';
import { forEachTemplate, scanTemplate } from './expressions.ts';
import type { ScanResult } from './expressions.ts';
import type { Finding } from './finding.ts';
import { pointerOf } from './finding.ts';
import { Limits, reservedKeys } from './limits.ts';
import { resolveUses, withValidator } from './resolve-catalog.ts';
import { repositoryTaskPrefix, resolveRepositoryUses } from './resolve-repository.ts';

/** A declared task after checking: what the planner needs. */
export interface TaskModel {
  index: number;
  id: string;
  task: ManifestTask;
  entry?: CatalogEntry;
  /** Declared-task indices this task waits for (explicit `needs` and output references), ascending. */
  deps: number[];
  secrets: Set<string>;
  outputs: string[];
  matrixKeys: string[];
  /** The expressions of a `run` string, scanned once here and reused by the planner. */
  runScan?: ScanResult;
}

type Rec = Record<string, unknown>;
const isRecord = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The semantic pass: ids, catalog references, `with` inputs, expressions, `when`, needs and the
 * DAG. Defensive about shape (it also runs when the schema found problems, so every problem is
 * reported at once).
 */
export function analyze(
  manifest: unknown,
  catalog: TaskCatalog,
): { findings: Finding[]; tasks: TaskModel[]; order: number[] } {
  const findings: Finding[] = [];
  const spec = isRecord(manifest) && isRecord(manifest.spec) ? manifest.spec : {};
  const params = isRecord(spec.params) ? spec.params : {};
  const paramTypes: Record<string, string> = {};
  for (const [name, param] of Object.entries(params))
    if (isRecord(param) && typeof param.type === 'string') {
      paramTypes[name] = param.type;
      if ('default' in param && !matchesType(param.default, param.type))
        findings.push({
          code: Code.paramDefault,
          severity: 'error',
          message: `the default of \`${name}\` is not of type ${param.type}`,
          pointer: pointerOf('spec', 'params', name, 'default'),
        });
    }
  const rawTasks = Array.isArray(spec.tasks) ? spec.tasks : [];
  const byId = new Map<string, number>();
  const models: TaskModel[] = [];
  const checkWith = withValidator();
  rawTasks.forEach((raw, index) => {
    if (!isRecord(raw) || typeof raw.id !== 'string') return;
    const id = raw.id;
    const at = (...tokens: (string | number)[]) => pointerOf('spec', 'tasks', index, ...tokens);
    if (
      reservedKeys.has(id) ||
      (Array.isArray(raw.outputs) && raw.outputs.some((o) => reservedKeys.has(String(o))))
    )
      findings.push({
        code: Code.reservedKey,
        severity: 'error',
        message: `\`${reservedKeys.has(id) ? id : 'outputs'}\` uses a reserved name (__proto__, constructor, prototype)`,
        pointer: at(reservedKeys.has(id) ? 'id' : 'outputs'),
      });
    if (byId.has(id)) {
      findings.push({
        code: Code.duplicateTaskId,
        severity: 'error',
        message: `duplicate task id \`${id}\` (also task #${(byId.get(id) as number) + 1})`,
        hint: 'task ids must be unique',
        pointer: at('id'),
      });
      return;
    }
    byId.set(id, models.length);
    const model: TaskModel = {
      index,
      id,
      task: raw as unknown as ManifestTask,
      deps: [],
      secrets: new Set(),
      outputs: Array.isArray(raw.outputs)
        ? raw.outputs.filter((o): o is string => typeof o === 'string')
        : [],
      matrixKeys: isRecord(raw.matrix) ? Object.keys(raw.matrix).sort() : [],
    };
    const repositoryTask = typeof raw.uses === 'string' && raw.uses.startsWith(repositoryTaskPrefix);
    if (typeof raw.uses === 'string' && (repositoryTask || /^tasks\/.+@.+$/.test(raw.uses))) {
      const resolved = repositoryTask
        ? resolveRepositoryUses(raw.uses, catalog, at('uses'))
        : resolveUses(raw.uses, catalog, at('uses'));
      if ('finding' in resolved) findings.push(resolved.finding);
      else {
        model.entry = resolved.entry;
        for (const o of resolved.entry.outputs) if (!model.outputs.includes(o)) model.outputs.push(o);
        findings.push(...checkWith(resolved.entry, isRecord(raw.with) ? raw.with : {}, at('with')));
      }
    } else if (raw.with !== undefined && raw.uses === undefined)
      findings.push({
        code: Code.withWithoutUses,
        severity: 'warning',
        message: '`with` is ignored: the task does not `uses` a catalog task',
        hint: 'pass values to `run` tasks through `env`',
        pointer: at('with'),
        onKey: true,
      });
    if (isRecord(raw.matrix)) {
      const count = Object.values(raw.matrix).reduce<number>(
        (n, v) => n * (Array.isArray(v) ? v.length : 1),
        1,
      );
      if (count > Limits.maxMatrixExpansions)
        findings.push({
          code: Code.matrixTooLarge,
          severity: 'error',
          message: `the matrix expands to ${count} tasks; the limit is ${Limits.maxMatrixExpansions}`,
          pointer: at('matrix'),
          onKey: true,
        });
    }
    models.push(model);
  });

  const taskInfo: ReferenceContext['tasks'] = new Map(
    models.map((m) => [m.id, { outputs: new Set(m.outputs), matrix: m.matrixKeys.length > 0 }]),
  );
  const paramNames = new Set(Object.keys(params));
  const noKeys: ReadonlySet<string> = new Set();
  const checkCondition = conditionChecker(paramTypes);
  const conditionCache = new Map<string, ReturnType<typeof checkCondition>>();

  // References in defaults.env: params, secrets, run and workload only.
  const defaults = isRecord(spec.defaults) ? spec.defaults : {};
  checkTemplates(
    defaults.env,
    ['spec', 'defaults', 'env'],
    {
      params: paramNames,
      tasks: taskInfo,
      matrixKeys: undefined,
      selfId: undefined,
      allowSecrets: true,
    },
    findings,
  );

  for (const model of models) {
    const raw = model.task as unknown as Rec;
    const at = (...tokens: (string | number)[]) => pointerOf('spec', 'tasks', model.index, ...tokens);
    const context: ReferenceContext = {
      params: paramNames,
      tasks: taskInfo,
      matrixKeys: model.matrixKeys.length === 0 ? noKeys : new Set(model.matrixKeys),
      selfId: model.id,
      allowSecrets: true,
    };
    const deps = new Set<number>();
    if (typeof raw.run === 'string') model.runScan = scanTemplate(raw.run);
    for (const field of templateFields)
      if (raw[field] !== undefined && holdsTemplate(raw[field]))
        for (const use of checkTemplates(
          raw[field],
          ['spec', 'tasks', model.index, field],
          context,
          findings,
          field === 'run' ? model.runScan : undefined,
        )) {
          if (use.secret !== undefined) model.secrets.add(use.secret);
          if (use.dependsOn !== undefined) deps.add(byId.get(use.dependsOn) as number);
        }
    if (typeof raw.when === 'string') {
      const when = raw.when;
      let check = conditionCache.get(when);
      if (!check) conditionCache.set(when, (check = checkCondition(when)));
      let refProblem = false;
      const conditionContext = { ...context, allowSecrets: false };
      check.refs.forEach((ref, k) => {
        const result = checkReference(ref.path, conditionContext, () =>
          conditionPlace(when, check.refs, k, at('when')),
        );
        if ('finding' in result) {
          refProblem = true;
          findings.push(result.finding);
        } else if (result.dependsOn !== undefined) deps.add(byId.get(result.dependsOn) as number);
      });
      if (check.error && (check.error.kind === 'syntax' || !refProblem))
        findings.push({
          code: check.error.kind === 'syntax' ? Code.celSyntax : Code.celType,
          severity: 'error',
          message: `invalid condition: ${check.error.message}`,
          hint: 'a `when` is a CEL boolean expression, e.g. tasks.test.outputs.passed == true',
          pointer: at('when'),
        });
    }
    if (Array.isArray(raw.needs)) {
      const list = raw.needs as unknown[];
      // Short lists (the usual case) are searched, not hashed: no Set per task.
      const listed = list.length > 16 ? new Set<string>() : undefined;
      list.forEach((need, j) => {
        if (typeof need !== 'string') return;
        if (listed ? listed.has(need) : j > 0 && list.lastIndexOf(need, j - 1) !== -1) {
          findings.push({
            code: Code.duplicateNeed,
            severity: 'warning',
            message: `\`${need}\` is listed twice`,
            pointer: at('needs', j),
          });
          return;
        }
        listed?.add(need);
        if (need === model.id) {
          findings.push({
            code: Code.selfDependency,
            severity: 'error',
            message: `task \`${need}\` needs itself`,
            hint: 'remove it from `needs`',
            pointer: at('needs', j),
          });
          return;
        }
        const d = byId.get(need);
        if (d === undefined) {
          findings.push({
            code: Code.unknownNeed,
            severity: 'error',
            message: `\`needs\` names an unknown task \`${need}\``,
            ...(closestHint(need, [...byId.keys()]) ?? {}),
            pointer: at('needs', j),
          });
          return;
        }
        deps.add(d);
      });
    }
    const sorted = Array.from(deps);
    for (let k = 1; k < sorted.length; k++)
      if ((sorted[k - 1] as number) > (sorted[k] as number)) {
        sorted.sort((x, y) => x - y);
        break;
      }
    model.deps = sorted;
  }

  const needs = models.map((m) => m.deps);
  const { order, blocked } = topologicalOrder(needs);
  if (blocked.length > 0)
    for (const cycle of findCycles(needs, blocked)) {
      const ids = cycle.map((i) => (models[i] as TaskModel).id);
      const first = ids[0] as string;
      const place = edgePlace(models[cycle[0] as number] as TaskModel, ids[1] ?? first, paramNames, taskInfo);
      findings.push({
        code: Code.cycle,
        severity: 'error',
        message: `dependency cycle: ${[...ids, first].join(' → ')}`,
        hint: 'remove one of these dependencies (a `needs` entry or an output reference)',
        pointer: place.pointer,
        ...(place.span ? { span: place.span } : {}),
      });
    }
  return { findings, tasks: models, order };
}

function closestHint(name: string, ids: string[]): { hint: string } | undefined {
  let best: string | undefined;
  for (const id of ids) if (id.toLowerCase() === name.toLowerCase()) best = id;
  return best ? { hint: `did you mean \`${best}\`?` } : undefined;
}

/** Checks every expression in the strings of `value`; returns what they use, with their place. */
function checkTemplates(
  value: unknown,
  base: (string | number)[],
  context: ReferenceContext,
  findings: Finding[],
  scanned?: ScanResult,
): TemplateUse[] {
  const uses: TemplateUse[] = [];
  forEachTemplate(value, (text, path) => {
    const { refs, malformed } = scanned ?? scanTemplate(text);
    if (refs.length === 0 && malformed.length === 0) return;
    let cached: string | undefined;
    const pointerAt = () => (cached ??= pointerOf(...base, ...path()));
    let seen: Map<string, number> | undefined; // only malformed expressions and findings need it
    const occurrenceOf = (t: string) => {
      seen ??= new Map<string, number>();
      const n = seen.get(t) ?? 0;
      seen.set(t, n + 1);
      return n;
    };
    for (const bad of malformed)
      findings.push({
        code: Code.badExpression,
        severity: 'error',
        message: `malformed expression ${bad.text}`,
        hint: 'an expression is a dotted path such as ${params.region}; write $${ for a literal ${',
        pointer: pointerAt(),
        span: { text: bad.text, occurrence: occurrenceOf(bad.text) },
      });
    // Which occurrence of its text each reference is (counted after the malformed ones, as above):
    // needed only to place a finding, so computed on first demand, once for the whole string.
    let occurrences: number[] | undefined;
    const occurrenceAt = (k: number): number => {
      occurrences ??= refs.map((r) => occurrenceOf(r.text));
      return occurrences[k] as number;
    };
    for (let k = 0; k < refs.length; k++) {
      const ref = refs[k] as (typeof refs)[number];
      const place = () => ({ pointer: pointerAt(), span: { text: ref.text, occurrence: occurrenceAt(k) } });
      const result = checkReference(ref.path, context, place);
      if ('finding' in result) findings.push(result.finding);
      else uses.push({ place, dependsOn: result.dependsOn, secret: result.secret });
    }
  });
  return uses;
}

/** Whether any string in `value` holds `${` (what checkTemplates looks at), without allocating. */
function holdsTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('${');
  if (Array.isArray(value)) {
    for (const item of value) if (holdsTemplate(item)) return true;
    return false;
  }
  if (value !== null && typeof value === 'object')
    for (const key in value) if (holdsTemplate((value as Rec)[key])) return true;
  return false;
}

interface TemplateUse {
  place: () => Pick<Finding, 'pointer' | 'span'>;
  dependsOn?: string;
  secret?: string;
}

const templateFields = ['run', 'with', 'env', 'command', 'args', 'image'] as const;

/** Place of the k-th reference of a condition: its text and which occurrence of that text. */
function conditionPlace(
  when: string,
  refs: ConditionCheck['refs'],
  k: number,
  pointer: string,
): Pick<Finding, 'pointer' | 'span'> {
  const ref = refs[k] as ConditionCheck['refs'][number];
  const text = when.slice(ref.start, ref.end);
  const occurrence = refs.slice(0, k).filter((r) => when.slice(r.start, r.end) === text).length;
  return { pointer, span: { text, occurrence } };
}

/**
 * Where `model` depends on task `to` is written: its `needs` entry, else the first expression
 * or condition reference to that task's outputs. Computed only to place a cycle diagnostic.
 */
function edgePlace(
  model: TaskModel,
  to: string,
  params: ReadonlySet<string>,
  tasks: ReferenceContext['tasks'],
): Pick<Finding, 'pointer' | 'span'> {
  const raw = model.task as unknown as Rec;
  const at = (...tokens: (string | number)[]) => pointerOf('spec', 'tasks', model.index, ...tokens);
  if (Array.isArray(raw.needs)) {
    const j = raw.needs.indexOf(to);
    if (j !== -1) return { pointer: at('needs', j) };
  }
  const context: ReferenceContext = {
    params,
    tasks,
    matrixKeys: new Set(model.matrixKeys),
    selfId: model.id,
    allowSecrets: true,
  };
  for (const field of templateFields)
    for (const use of checkTemplates(raw[field], ['spec', 'tasks', model.index, field], context, []))
      if (use.dependsOn === to) return use.place();
  if (typeof raw.when === 'string') {
    const refs = conditionChecker({})(raw.when).refs;
    const k = refs.findIndex((r) => r.path[0] === 'tasks' && r.path[1] === to);
    if (k !== -1) return conditionPlace(raw.when, refs, k, at('when'));
  }
  return { pointer: at('when') };
}

function matchesType(value: unknown, type: string): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      return Number.isInteger(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isRecord(value);
    default:
      return true;
  }
}
