/** The typed refusals of an approval task's approvals (engine/approval-task/). */
import { Fault, MaestroError } from '../../core/index.ts';

/** The task is not an approval task waiting for approvals (not one, not yet, or no longer). */
export class TaskNotWaitingError extends MaestroError {
  constructor(runId: string, taskId: string, state: string) {
    super('task_not_waiting', `task ${taskId} of run ${runId} is ${state}, not waiting_for_approval`, {
      fault: Fault.user,
      hint: 'only a `uses: tasks/approval@1` task the run has reached (GET /v1/runs/{id} shows it waiting_for_approval) can be approved',
    });
  }
}

/** The run's own author may not approve its gate (as a pull request's author may not). */
export class ApproverIsAuthorError extends MaestroError {
  constructor(approver: string, runId: string) {
    super('approver_is_author', `${approver} started run ${runId} and cannot approve its approval task`, {
      fault: Fault.user,
      hint: 'another reviewer the task allows (its reviewers or teams) must approve it',
    });
  }
}

/** The reviewer is neither in the task's `reviewers` nor in one of its `teams`. */
export class ApproverNotAllowedError extends MaestroError {
  constructor(approver: string, taskId: string, allowed: string) {
    super('approver_not_allowed', `${approver} is not allowed to approve task ${taskId}`, {
      fault: Fault.user,
      hint: `the task allows ${allowed}`,
    });
  }
}

/** The engine was built without an approval key, so it can neither sign nor verify approvals. */
export class ApprovalKeyMissingError extends MaestroError {
  constructor() {
    super('approval_signer_unavailable', 'this engine has no approval signing key', {
      fault: Fault.system,
      hint: 'open the runtime with approvals (the api and app roles resolve MAESTRO_APPROVAL_SIGNING_KEY)',
    });
  }
}
