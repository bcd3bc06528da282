/**
 * Typed errors with stable codes. Callers decide on `code`, `retryable` and `fault`, never on the
 * message text (EXAMPLES.md, habits 4 and 5). Every surface renders `message` (and `hint`) to a
 * person; none prints a stack trace as the only explanation.
 */
export const Fault = { user: 'user', system: 'system' } as const;
export type Fault = (typeof Fault)[keyof typeof Fault];

export interface MaestroErrorOptions {
  cause?: unknown;
  hint?: string;
  retryable?: boolean;
  fault?: Fault;
  details?: Record<string, unknown>;
}

export class MaestroError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly retryable: boolean;
  readonly fault: Fault;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: MaestroErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.retryable = options.retryable ?? false;
    this.fault = options.fault ?? Fault.system;
    this.details = options.details ?? {};
  }
}

/** Bad command-line usage; surfaces exit with code 2. */
export class UsageError extends MaestroError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('usage', message, { fault: Fault.user, ...options });
  }
}

/** The user's input (manifest, params, bundle) is wrong; surfaces exit with code 1. */
export class InputError extends MaestroError {
  constructor(code: string, message: string, options: MaestroErrorOptions = {}) {
    super(code, message, { fault: Fault.user, ...options });
  }
}

export class NotFoundError extends MaestroError {
  constructor(what: string, id: string, options: MaestroErrorOptions = {}) {
    super('not_found', `${what} ${JSON.stringify(id)} was not found`, { fault: Fault.user, ...options });
  }
}

/** A dependency outside our process (store, runner backend, GitHub) failed. */
export class SystemError extends MaestroError {
  constructor(code: string, message: string, options: MaestroErrorOptions = {}) {
    super(code, message, { fault: Fault.system, ...options });
  }
}

export function isMaestroError(error: unknown): error is MaestroError {
  return error instanceof MaestroError;
}

/** One line a person can act on, for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof MaestroError)
    return error.hint ? `${error.message}\nhint: ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}
