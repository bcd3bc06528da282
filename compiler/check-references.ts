import { Code } from './codes.ts';
import type { Finding } from './finding.ts';
import { closest } from './validate-schema.ts';

/** What a reference may point at, from the place it is written. */
export interface ReferenceContext {
  params: ReadonlySet<string>;
  /** Declared id → its declared outputs and matrix keys (a task with a matrix has some). */
  tasks: TaskLookup;
  /** Matrix keys of the task being checked; undefined outside a task (e.g. `defaults.env`). */
  matrixKeys: ReadonlySet<string> | undefined;
  /** Id of the task being checked, undefined in `defaults`. */
  selfId: string | undefined;
  /** `when` has no secrets (conditions are logged; secrets must not be). */
  allowSecrets: boolean;
}

/** The declared tasks by id (a Map fits; the analysis looks them up without building one). */
export interface TaskLookup {
  get(
    id: string,
  ): { readonly outputs: readonly string[]; readonly matrixKeys: readonly string[] } | undefined;
  keys(): Iterable<string>;
}

export interface ReferenceUse {
  /** Declared task id this reference depends on (an implicit edge), if any. */
  dependsOn?: string;
  secret?: string;
}

/** What a reference to a param, run or workload uses: nothing (shared, never changed). */
const usesNothing: ReferenceUse = Object.freeze({});

/** What is wrong with a reference; `referenceFinding` places it. */
export interface ReferenceProblem {
  problem: { code: Finding['code']; message: string; hint: string | undefined };
}

/** The finding of a reference's problem, at its place (pointer and span). */
export function referenceFinding(
  { problem }: ReferenceProblem,
  place: Pick<Finding, 'pointer' | 'span'>,
): Finding {
  const { code, message, hint } = problem;
  return { code, severity: 'error', message, ...(hint ? { hint } : {}), ...place };
}

const fail = (code: Finding['code'], message: string, hint?: string): ReferenceProblem => ({
  problem: { code, message, hint },
});

/**
 * Checks one dotted reference (`params.x`, `tasks.a.outputs.b`, ...). Returns its problem, or
 * what the reference uses; the caller places a problem (the place is only computed for one).
 */
export function checkReference(
  path: readonly string[],
  context: ReferenceContext,
): ReferenceProblem | ReferenceUse {
  // Indexed, not destructured with a rest element: this runs for every expression of a manifest.
  const root = path[0];
  const a = path[1];
  const b = path[2];
  const c = path[3];
  switch (root) {
    case 'params': {
      if (a === undefined) return fail(Code.badExpression, '`params` needs a param name, e.g. params.region');
      if (!context.params.has(a)) {
        const near = closest(a, [...context.params]);
        return fail(
          Code.unknownParam,
          `unknown param \`${a}\``,
          near ? `did you mean \`params.${near}\`?` : 'declare it under spec.params',
        );
      }
      return usesNothing;
    }
    case 'secrets':
      if (!context.allowSecrets)
        return fail(
          Code.badExpression,
          'secrets are not available here',
          'pass the secret to the task through `env` or `with`',
        );
      if (a === undefined || b !== undefined)
        return fail(
          Code.badExpression,
          `\`${path.join('.')}\` is not a secret reference`,
          'write secrets.NAME',
        );
      return { secret: a };
    case 'workload':
      if (a !== 'identity' || b !== undefined)
        return fail(
          Code.badExpression,
          `unknown reference \`${path.join('.')}\``,
          'the only workload field is workload.identity',
        );
      return usesNothing;
    case 'run':
      if (a !== 'id' || b !== undefined)
        return fail(
          Code.badExpression,
          `unknown reference \`${path.join('.')}\``,
          'the only run field is run.id',
        );
      return usesNothing;
    case 'matrix':
      if (
        context.matrixKeys === undefined ||
        a === undefined ||
        !context.matrixKeys.has(a) ||
        b !== undefined
      )
        return fail(
          Code.unknownMatrixKey,
          context.matrixKeys === undefined || context.matrixKeys.size === 0
            ? `\`${path.join('.')}\` is used outside a matrix`
            : `unknown matrix key \`${a ?? ''}\``,
          context.matrixKeys && context.matrixKeys.size > 0
            ? `this task's matrix keys: ${[...context.matrixKeys].join(', ')}`
            : 'add a `matrix` to this task, or remove the reference',
        );
      return usesNothing;
    case 'tasks': {
      if (context.selfId === undefined)
        return fail(
          Code.badExpression,
          'task outputs cannot be referenced here',
          'reference outputs inside a task',
        );
      if (a === undefined || b !== 'outputs' || c === undefined || path.length > 4)
        return fail(
          Code.badExpression,
          `\`${path.join('.')}\` is not an output reference`,
          'write tasks.<id>.outputs.<name>',
        );
      const task = context.tasks.get(a);
      if (!task) {
        const near = closest(a, [...context.tasks.keys()]);
        return fail(
          Code.unknownTaskRef,
          `unknown task \`${a}\``,
          near ? `did you mean \`${near}\`?` : undefined,
        );
      }
      if (a === context.selfId)
        return fail(
          Code.selfDependency,
          `task \`${a}\` references its own output`,
          'outputs are only available to later tasks',
        );
      if (task.matrixKeys.length > 0)
        return fail(
          Code.matrixOutputRef,
          `\`${a}\` is a matrix task: its outputs have one value per expansion`,
          'add a task that needs it and combines the values, and reference that task',
        );
      if (!task.outputs.includes(c))
        return fail(
          Code.undeclaredOutput,
          `task \`${a}\` does not declare the output \`${c}\``,
          task.outputs.length > 0
            ? `declared outputs: ${[...new Set(task.outputs)].join(', ')}`
            : `add \`outputs: [${c}]\` to task \`${a}\``,
        );
      return { dependsOn: a };
    }
    default: {
      const near = closest(root ?? '', ['params', 'secrets', 'workload', 'tasks', 'matrix', 'run']);
      return fail(
        Code.badExpression,
        `unknown reference root \`${root ?? ''}\``,
        near
          ? `did you mean \`${near}\`?`
          : 'expressions start with params, secrets, workload, tasks, matrix or run',
      );
    }
  }
}
