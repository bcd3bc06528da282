import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { ValidationIssue, ValidationResult } from './errors.ts';

/**
 * A compiled JSON Schema (2020-12) check that reports every violation with the JSON Pointer of
 * the value at fault: ajv's instancePath points at the parent for `required` and
 * `additionalProperties`, so the missing or extra property's name is added to it (a person reads
 * `/headers/Authorization is not allowed`, not `must NOT have additional properties` at `/headers`).
 */
export function compileSchema(schema: unknown): (value: unknown) => ValidationResult {
  // strict: false: a task's spec may carry annotations (`description`, `examples`, vendor keys).
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  const validate: ValidateFunction = ajv.compile(schema as object);
  return (value) => {
    if (validate(value)) return { ok: true, errors: [] };
    // `if`'s own error ("must match \"else\" schema") only says that a branch's errors follow.
    const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'if');
    return { ok: false, errors: errors.map(issueOf) };
  };
}

function issueOf(error: ErrorObject): ValidationIssue {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required')
    return {
      path: `${error.instancePath}/${escape(String(params.missingProperty))}`,
      message: 'is required',
    };
  if (error.keyword === 'additionalProperties')
    return {
      path: `${error.instancePath}/${escape(String(params.additionalProperty))}`,
      message: 'is not allowed (not in the spec)',
    };
  return { path: error.instancePath, message: error.message ?? error.keyword };
}

/** RFC 6901: `~` and `/` in a property name. */
const escape = (name: string) => name.replaceAll('~', '~0').replaceAll('/', '~1');

/** `/a/b: is required; /c: must be string` (the value itself is `(inputs)`). */
export function describeIssues(errors: readonly ValidationIssue[], root = '(inputs)'): string {
  return errors.map((e) => `${e.path === '' ? root : e.path}: ${e.message}`).join('; ');
}
