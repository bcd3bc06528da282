/** Typed errors of the source fetcher. Callers switch on `code`, never on the message. */
import { Fault, MaestroError, type MaestroErrorOptions } from '../core/index.ts';

/** A source location we refuse to fetch from (plain HTTP to a remote host, credentials in the URL). */
export class SourceRefusedError extends MaestroError {
  constructor(location: string, why: string, hint: string) {
    super('source_refused', `refusing the source ${JSON.stringify(location)}: ${why}`, {
      fault: Fault.user,
      hint,
    });
  }
}

/** The revision does not name a commit in the repository. */
export class SourceRefUnknownError extends MaestroError {
  constructor(repo: string, ref: string, options: MaestroErrorOptions = {}) {
    super('source_ref_unknown', `${JSON.stringify(ref)} is not a commit in ${repo}`, {
      fault: Fault.user,
      hint: 'pass --ref a branch, tag or commit that exists (git log shows them)',
      ...options,
    });
  }
}

/** Fetching or exporting the source failed (network, authentication, a broken repository). */
export class SourceFetchError extends MaestroError {
  constructor(repo: string, message: string, options: MaestroErrorOptions = {}) {
    super('source_fetch_failed', `cannot fetch the source ${repo}: ${message}`, {
      fault: Fault.system,
      retryable: true,
      hint: 'check that the repository is reachable and the installation can read it',
      ...options,
    });
  }
}

/** A directory source no longer holds what the run was submitted with. */
export class SourceChangedError extends MaestroError {
  constructor(dir: string, expected: string, found: string) {
    super(
      'source_changed',
      `the directory ${dir} changed after the run was submitted (was ${expected}, now ${found})`,
      { fault: Fault.user, hint: 'start a new run: a run always uses the source it was submitted with' },
    );
  }
}

/** A plain directory too large to copy for every run. */
export class SourceTooLargeError extends MaestroError {
  constructor(dir: string, limit: number) {
    super('source_too_large', `${dir} has more than ${limit} entries, too many to copy for a run`, {
      fault: Fault.user,
      hint: 'run from a git repository (its commit is exported once and shared), or pass --source <a smaller dir>',
    });
  }
}
