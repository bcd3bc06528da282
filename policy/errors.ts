import { InputError, SystemError, type MaestroErrorOptions } from '../core/index.ts';

/** A policy bundle could not be read: missing file, not a gzip'd tar, no policy.wasm, bad data.json. */
export class PolicyBundleError extends InputError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('policy_bundle_invalid', message, options);
  }
}

/** `opa build` / `opa test` failed or the Rego given to it breaks the repository rules contract. */
export class PolicyBuildError extends InputError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('policy_build_failed', message, options);
  }
}

/** The `opa` binary is not installed where we look for it. */
export class OpaNotFoundError extends SystemError {
  constructor(looked: string[]) {
    super('opa_not_found', `opa was not found (looked in ${looked.join(', ')})`, {
      hint: 'run scripts/setup/opa.sh',
    });
  }
}

/** A decision could not be appended to the decision log; the task must not run. */
export class DecisionLogError extends SystemError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('policy_log_write_failed', message, options);
  }
}

/** An exported decision log file cannot be parsed (not the same as a broken chain). */
export class DecisionLogFormatError extends InputError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('policy_log_format', message, options);
  }
}
