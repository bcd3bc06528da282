/**
 * Run parameters against the plan's declarations: defaults applied, required ones checked,
 * unknown ones refused, and strings from a command line converted to the declared type.
 */
import { renderKnown } from '../compiler/index.ts';
import { InputError, type Plan, type PlanTask } from '../core/index.ts';

function convert(name: string, type: string, value: unknown): unknown {
  if (typeof value !== 'string' || type === 'string') return value;
  const bad = () =>
    new InputError(
      'param_invalid',
      `parameter ${name} must be ${type === 'integer' ? 'an' : 'a'} ${type}, got ${JSON.stringify(value)}`,
    );
  switch (type) {
    case 'number':
    case 'integer': {
      const n = Number(value);
      if (value.trim() === '' || Number.isNaN(n) || (type === 'integer' && !Number.isInteger(n))) throw bad();
      return n;
    }
    case 'boolean':
      if (value === 'true' || value === 'false') return value === 'true';
      throw bad();
    default:
      try {
        return JSON.parse(value) as unknown;
      } catch {
        throw bad();
      }
  }
}

export function resolveParams(plan: Plan, given: Record<string, unknown>): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const name of Object.keys(given))
    if (!(name in plan.params))
      throw new InputError('param_unknown', `workflow ${plan.workflow.name} has no parameter ${name}`, {
        hint: `declared parameters: ${Object.keys(plan.params).join(', ') || '(none)'}`,
      });
  for (const [name, declared] of Object.entries(plan.params)) {
    if (name in given) params[name] = convert(name, declared.type, given[name]);
    else if (declared.default !== undefined) params[name] = declared.default;
    else if (declared.required)
      throw new InputError('param_missing', `workflow ${plan.workflow.name} needs the parameter ${name}`, {
        hint: `pass it with --param ${name}=<value>`,
      });
  }
  return params;
}

/**
 * A task's `with` as far as it is known before the run starts: params and matrix values rendered,
 * secrets and upstream outputs left as written. Policy asked ahead of a run (a runbook trigger,
 * `maestro policy eval`) sees the hosts the params name, as the engine's check at dispatch will.
 */
export function withBeforeRun(task: PlanTask, params: Record<string, unknown>): Record<string, unknown> {
  return renderKnown(task.with, { params, matrix: task.matrix ?? {} }) as Record<string, unknown>;
}
