import { Fault, MaestroError, type MaestroErrorOptions } from '../core/index.ts';

/**
 * SIG answered with an error (a problem document). `retryable` is true for 429, 503 and 5xx, the
 * answers a client may retry with the same idempotency key; a 4xx is the caller's to fix.
 */
export class SigRequestError extends MaestroError {
  readonly status: number;
  constructor(status: number, code: string, message: string, options: MaestroErrorOptions = {}) {
    const retryable = status === 429 || status >= 500;
    super(code, message, { fault: retryable ? Fault.system : Fault.user, retryable, ...options });
    this.status = status;
  }
}

/** SIG could not be reached (refused, reset, timed out): retryable. */
export class SigUnreachableError extends MaestroError {
  constructor(url: string, cause: unknown) {
    super('sig_unreachable', `SIG at ${url} could not be reached: ${(cause as Error)?.message ?? cause}`, {
      cause,
      retryable: true,
      hint: 'Check the SIG endpoint (SIG_INGEST_URL) and that the server is running; the request is retried with the same idempotency key.',
    });
  }
}

/** The client and server share no contract version. */
export class SigVersionError extends MaestroError {
  constructor(contract: string, ours: readonly number[], theirs: readonly number[]) {
    super(
      'sig_version_unsupported',
      `SIG speaks ${contract} v${theirs.join(', v') || ' none'}; this client v${ours.join(', v')}`,
      {
        fault: Fault.system,
        hint: 'Upgrade Maestro or SIG so that both speak one version of the contract (docs/sig.md, "Versions").',
      },
    );
  }
}

/** A value cannot be sent in the negotiated version (it uses something that version lacks). */
export class SigNotRepresentableError extends MaestroError {
  constructor(what: string, version: number, why: string) {
    super('sig_not_representable', `${what} cannot be sent to a v${version} SIG: ${why}`, {
      fault: Fault.user,
      hint: `Leave it out, or use a SIG that speaks v${version + 1} or later.`,
    });
  }
}

/** The stream broke off or SIG refused a frame. */
export class SigStreamError extends MaestroError {
  constructor(code: string, message: string, options: MaestroErrorOptions = {}) {
    super(code, message, options);
  }
}
