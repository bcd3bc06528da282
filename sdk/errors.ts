/**
 * The SDK's typed errors: a stable `code` tests and the runner's log can rely on, whose fault it
 * is, whether the same attempt could succeed if retried, and a hint a person can act on. The SDK
 * is a package of its own (it imports nothing of the engine), so it carries its own small class
 * with the same shape as the engine's errors (engine/errors.ts).
 */
export type Fault = 'user' | 'system';

export interface TaskErrorOptions {
  fault?: Fault;
  retryable?: boolean;
  hint?: string;
  cause?: unknown;
}

export class TaskError extends Error {
  readonly code: string;
  readonly fault: Fault;
  readonly retryable: boolean;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: TaskErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TaskError';
    this.code = code;
    this.fault = options.fault ?? 'user';
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
  }
}

/** One problem with a value, at a JSON Pointer into it (`''` is the value itself). */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** What `validate` returns: every problem found, not the first. */
export interface ValidationResult {
  ok: boolean;
  errors: ValidationIssue[];
}
