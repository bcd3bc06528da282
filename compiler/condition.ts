import { Environment, evaluate } from '@marcbachmann/cel-js';
import type { ASTNode } from '@marcbachmann/cel-js';
import { ConditionError } from './errors.ts';
import type { ExpressionScope } from './render.ts';

/**
 * `when` conditions are CEL (@marcbachmann/cel-js). Variables: `params` (typed from the manifest's
 * params), `tasks`, `matrix`, `run`, `workload` (maps). Task outputs are strings, except the exact
 * strings `true` and `false`, which become booleans; integers are CEL ints.
 */
export function evaluateCondition(cel: string, scope: ExpressionScope): boolean {
  let result: unknown;
  try {
    // Null-prototype maps: ids and output names are data and must never reach a prototype.
    const tasks: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [id, task] of Object.entries(scope.tasks ?? {})) {
      const outputs: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const [name, value] of Object.entries(task.outputs))
        outputs[name] = value === 'true' ? true : value === 'false' ? false : value;
      tasks[id] = { outputs };
    }
    const context = toCel({
      params: scope.params,
      matrix: scope.matrix ?? {},
      run: scope.run ?? {},
      workload: scope.workload ?? {},
    }) as Record<string, unknown>;
    result = evaluate(cel, { ...context, tasks });
  } catch (error) {
    throw new ConditionError(`condition ${JSON.stringify(cel)} failed: ${firstLine(error)}`, {
      cause: error,
    });
  }
  if (typeof result !== 'boolean')
    throw new ConditionError(`condition ${JSON.stringify(cel)} gave ${typeof result}, not a boolean`);
  return result;
}

/**
 * A CEL boolean over caller-named variables (the `wait` task's HTTP condition sees `status`,
 * `body` and `headers`): the same library and the same conversions as `when`.
 */
export function evaluateCelBoolean(cel: string, variables: Record<string, unknown>): boolean {
  let result: unknown;
  try {
    result = evaluate(cel, toCel(variables) as Record<string, unknown>);
  } catch (error) {
    throw new ConditionError(`condition ${JSON.stringify(cel)} failed: ${firstLine(error)}`, {
      cause: error,
    });
  }
  if (typeof result !== 'boolean')
    throw new ConditionError(`condition ${JSON.stringify(cel)} gave ${typeof result}, not a boolean`);
  return result;
}

/** CEL ints are bigints: JSON integers become ints, other numbers stay doubles. */
function toCel(value: unknown): unknown {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map((v) => toCel(v));
  if (value !== null && typeof value === 'object') {
    const out = new Map<string, unknown>();
    for (const [k, v] of Object.entries(value)) out.set(k, toCel(v));
    return Object.fromEntries(out);
  }
  return value;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

const celTypes: Record<string, string> = {
  string: 'string',
  integer: 'int',
  number: 'double',
  boolean: 'bool',
  object: 'map',
  array: 'list',
};

export interface ConditionCheck {
  /** `syntax` (does not parse), `type` (does not type-check or is not bool). */
  error?: { kind: 'syntax' | 'type'; message: string; offset?: number };
  /** Dotted references found in the condition, e.g. ['tasks','build','outputs','ok']. */
  refs: { path: string[]; start: number; end: number }[];
}

/** A type checker for one manifest's conditions; params are typed from the manifest. */
export function conditionChecker(paramTypes: Record<string, string>): (cel: string) => ConditionCheck {
  const schema: Record<string, string> = {};
  for (const [name, type] of Object.entries(paramTypes)) schema[name] = celTypes[type] ?? 'dyn';
  let env: Environment | undefined; // created on first use: many manifests have no `when`
  return (cel) => {
    env ??= new Environment({ unlistedVariablesAreDyn: false, limits: { maxAstNodes: 2000, maxDepth: 64 } })
      .registerVariable({ name: 'params', schema })
      .registerVariable('tasks', 'map')
      .registerVariable('matrix', 'map')
      .registerVariable('run', 'map')
      .registerVariable('workload', 'map');
    let ast: ASTNode;
    try {
      ast = env.parse(cel).ast as ASTNode;
    } catch (error) {
      const offset = (error as { node?: { pos?: number } }).node?.pos;
      return {
        error: { kind: 'syntax', message: firstLine(error), ...(offset === undefined ? {} : { offset }) },
        refs: [],
      };
    }
    const refs = collectRefs(ast);
    return { refs, ...typeCheck(env, cel) };
  };
}

function typeCheck(env: Environment, cel: string): Pick<ConditionCheck, 'error'> {
  try {
    const result = env.check(cel);
    if (!result.valid) return { error: { kind: 'type', message: firstLine(result.error) } };
    if (result.type !== 'bool' && result.type !== 'dyn')
      return { error: { kind: 'type', message: `the condition gives ${result.type}, not bool` } };
    return {};
  } catch (error) {
    return { error: { kind: 'type', message: firstLine(error) } };
  }
}

/** Dotted paths rooted at an identifier: `a.b.c` and `a["b"].c`. Iterative, bounded by the AST size. */
function collectRefs(root: ASTNode): ConditionCheck['refs'] {
  const refs: ConditionCheck['refs'] = [];
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as { op?: string; args?: unknown; start?: number; end?: number } | undefined;
    if (!node || typeof node !== 'object' || typeof node.op !== 'string') continue;
    const path = dottedPath(node);
    if (path) {
      refs.push({ path, start: node.start ?? 0, end: node.end ?? 0 });
      continue;
    }
    const args = node.args;
    if (Array.isArray(args)) for (const a of args) stack.push(...(Array.isArray(a) ? a : [a]));
    else if (args && typeof args === 'object') stack.push(args);
  }
  return refs.sort((a, b) => a.start - b.start);
}

function dottedPath(node: { op?: string; args?: unknown }): string[] | undefined {
  if (node.op === 'id' && typeof node.args === 'string') return [node.args];
  if (node.op === '.' || node.op === '.?') {
    const [object, field] = node.args as [{ op?: string; args?: unknown }, string];
    const head = dottedPath(object);
    return head ? [...head, field] : undefined;
  }
  if (node.op === '[]' || node.op === '[?]') {
    const [object, index] = node.args as [{ op?: string; args?: unknown }, { op?: string; args?: unknown }];
    const head = dottedPath(object);
    return head && index?.op === 'value' && typeof index.args === 'string'
      ? [...head, index.args]
      : undefined;
  }
  return undefined;
}
