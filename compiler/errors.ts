import { InputError } from '../core/index.ts';
import type { MaestroErrorOptions } from '../core/index.ts';

/** An expression could not be resolved at dispatch time (a value missing from the scope). */
export class ExpressionError extends InputError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('expression_unresolved', message, options);
  }
}

/** A `when` condition failed to evaluate or did not yield a boolean. */
export class ConditionError extends InputError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('condition_invalid', message, options);
  }
}

/** A glob (trigger filter) the linear matcher refuses: invalid, over a limit, or only negations. */
export class GlobError extends InputError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('glob_invalid', message, {
      hint: 'fix the pattern in the manifest; `maestro validate` shows where',
      ...options,
    });
  }
}
