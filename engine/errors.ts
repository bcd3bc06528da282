/** The engine's typed errors. Callers switch on `code`, never on message text. */
import { Fault, MaestroError, NotFoundError, type MaestroErrorOptions } from '../core/index.ts';

/** An illegal state transition was requested: a bug in the engine, never the user's fault. */
export class IllegalTransitionError extends MaestroError {
  constructor(kind: 'run' | 'task', from: string, to: string, options: MaestroErrorOptions = {}) {
    super('illegal_transition', `illegal ${kind} transition ${from} -> ${to}`, {
      fault: Fault.system,
      ...options,
    });
  }
}

/** A compare-and-set on stored state failed: someone else changed it first. */
export class StaleStateError extends MaestroError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('stale_state', message, { fault: Fault.system, ...options });
  }
}

/** A worker whose lease expired (or was taken over) tried to write. */
export class LeaseLostError extends MaestroError {
  /** The lease that was lost (`run:<id>`, `attempt:<id>`, `task:<run>/<task>`). */
  readonly lease: string;
  constructor(name: string, options: MaestroErrorOptions = {}) {
    super('lease_lost', `the lease ${JSON.stringify(name)} is no longer held by this worker`, {
      fault: Fault.system,
      hint: 'another worker took over after this one stopped renewing (paused, partitioned or too slow); nothing it wrote after that counts',
      ...options,
    });
    this.lease = name;
  }
}

/** The data directory cannot be used (not a database, newer schema, not a directory). */
export class StoreUnusableError extends MaestroError {
  constructor(message: string, options: MaestroErrorOptions = {}) {
    super('store_unusable', message, { fault: Fault.user, ...options });
  }
}

/**
 * An attempt's start refused by its namespace's tasks quota (engine/store budget-sql.ts): nothing
 * was written. Not a failure: the task stays ready, with reason `quota_tasks`, and starts in its
 * turn when one of the namespace's attempts ends.
 */
export class TaskQuotaError extends MaestroError {
  readonly namespace: string;
  readonly limit: number;
  constructor(namespace: string, limit: number) {
    super('quota_tasks', `namespace ${namespace} is at its quota of ${limit} tasks at once`, {
      fault: Fault.user,
      retryable: true,
      hint: `the task starts when one of them ends, in its turn; raise the quota with \`maestro budgets set ${namespace} --max-tasks <n>\``,
    });
    this.namespace = namespace;
    this.limit = limit;
  }
}

/** Another live process is executing this run. */
export class RunBusyError extends MaestroError {
  constructor(runId: string, owner: string) {
    super('run_busy', `run ${runId} is being executed by another process (${owner})`, {
      fault: Fault.user,
      hint: 'wait for it to finish, or cancel it with `maestro runs cancel`',
    });
  }
}

/**
 * The run waits for approvals: nothing of it may execute until they arrive (the surface that
 * collects them moves it to queued with the attestation). Fail closed: no approval, no run.
 */
export class ApprovalPendingError extends MaestroError {
  constructor(runId: string) {
    super('approval_pending', `run ${runId} is waiting for approval and cannot be executed`, {
      fault: Fault.user,
      hint: `approve it with POST /v1/runs/${runId}/approvals (a token with approvals:write), or cancel it`,
    });
  }
}

/** A run can be approved only while it waits for approval. */
export class RunNotWaitingError extends MaestroError {
  constructor(runId: string, status: string) {
    super('run_not_waiting', `run ${runId} is ${status}, not waiting_for_approval`, {
      fault: Fault.user,
      hint: 'only a run started from an approval-gated workflow and not yet started or cancelled can be approved',
    });
  }
}

/** A gated run cancelled before its approvals arrived: a retry would run it ungated. */
/** A retry named a task that is not in the run, or that did not fail (nothing to retry). */
export class TaskNotRetryableError extends MaestroError {
  constructor(runId: string, taskId: string, state: string | undefined) {
    super(
      'task_not_retryable',
      state === undefined
        ? `run ${runId} has no task ${JSON.stringify(taskId)}`
        : `task ${taskId} of run ${runId} is ${state}: only a failed, timed-out, cancelled or blocked task can be retried`,
      {
        fault: Fault.user,
        hint: 'list the run’s tasks with GET /v1/runs/{id} and name a failed one, or retry the whole run',
      },
    );
  }
}

export class RunNotApprovedError extends MaestroError {
  constructor(runId: string) {
    super(
      'run_not_approved',
      `run ${runId} was cancelled before it was approved; retrying it would skip its approvals`,
      {
        fault: Fault.user,
        hint: 'start a new run of the workflow; it waits for approvals again',
      },
    );
  }
}

export class RunNotFoundError extends NotFoundError {
  constructor(runId: string) {
    super('run', runId, { hint: 'list runs with `maestro runs list`' });
  }
}

/** A secret a task references was not provided. */
export class MissingSecretError extends MaestroError {
  constructor(name: string, taskId: string) {
    super('missing_secret', `task ${taskId} needs the secret ${name}, which was not provided`, {
      fault: Fault.user,
      hint: `set MAESTRO_SECRET_${name} or add ${name}=... to the secrets file (--secrets)`,
    });
  }
}

/** A task uses `${workload.identity}` and this engine has no key to sign one (fail closed). */
export class WorkloadIdentityUnavailableError extends MaestroError {
  constructor(taskId: string) {
    super(
      'workload_identity_unavailable',
      `task ${taskId} uses \${workload.identity}, and this engine cannot sign one (no receipts key)`,
      {
        fault: Fault.system,
        hint: 'configure a receipts signing key (MAESTRO_SIGNING_KEY, or the development key); a keyless signer cannot sign workload identities',
      },
    );
  }
}

/** A run names a source but the engine was built without a way to fetch one. */
export class SourceUnavailableError extends MaestroError {
  constructor(repo: string) {
    super(
      'source_unavailable',
      `the run's source ${repo} cannot be fetched: this engine has no source fetcher`,
      {
        fault: Fault.system,
        hint: 'build the engine through the composition root, which passes a source fetcher',
      },
    );
  }
}

/** An engine was built without a policy choice: absent means refuse, never allow. */
export class PolicyRequiredError extends MaestroError {
  constructor() {
    super('policy_required', 'an engine cannot be created without a policy gate', {
      fault: Fault.system,
      hint: 'pass a PolicyGate, or policyOff(<where it was turned off>) to run without policy on purpose',
    });
  }
}

/** The engine's re-attempt cap is not a whole number of at least 0. */
export class InvalidReattemptsError extends MaestroError {
  constructor(value: unknown) {
    super('invalid_reattempts', `reattempts must be a whole number of at least 0, got ${String(value)}`, {
      fault: Fault.system,
      hint: 'pass reattempts: 0 (never re-attempt an interrupted attempt) or a small count such as the default 3',
    });
  }
}

/** A task names a runner the operator has not configured: refused before the run starts. */
export class RunnerNotConfiguredError extends MaestroError {
  constructor(taskId: string, runner: string, configured: readonly string[]) {
    super(
      'runner_not_configured',
      `task ${taskId} asks for the runner ${JSON.stringify(runner)}, which is not configured (configured: ${configured.join(', ') || 'none'})`,
      {
        fault: Fault.user,
        details: { taskId, runner, configured: [...configured] },
        hint:
          runner === 'container'
            ? 'start a Docker Engine API socket (Docker, or `podman system service`), set DOCKER_HOST, or add a `container` section to the runners config (MAESTRO_RUNNERS_CONFIG, docs/runners.md)'
            : `add a \`${runner}\` section to the runners config (MAESTRO_RUNNERS_CONFIG or --runners, docs/runners.md), or change the task's runner`,
      },
    );
  }
}

/**
 * A task its runner cannot place (a Kubernetes namespace pinned to one cluster asking for a
 * resource class of another, an unmapped namespace, an unknown resource class): refused before
 * the run starts, as an unknown runner is.
 */
export class RunnerPlacementError extends MaestroError {
  constructor(taskId: string, runner: string, refused: { reason: string; message: string }) {
    super(
      'runner_placement_refused',
      `task ${taskId} cannot run on the ${runner} runner: ${refused.message}`,
      {
        fault: Fault.user,
        details: { taskId, runner, reason: refused.reason },
        hint: `change the task's namespace or resources, or map them in the \`${runner}\` section of the runners config (MAESTRO_RUNNERS_CONFIG or --runners, docs/runners.md)`,
      },
    );
  }
}
