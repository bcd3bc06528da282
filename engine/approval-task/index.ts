/** Approval tasks (`uses: tasks/approval@1`): a gate in the middle of a run, an engine primitive. */
export { isApprovalTask, approvalSpecOf, type ApprovalSpec } from './approval-spec.ts';
export { countTaskApprovals, type TaskApprovalCount, type CountedApproval } from './approval-count.ts';
export { approveTask, countApprovalsOfTask, settleRun, isParked } from './approve-task.ts';
export {
  sweepApprovals,
  dueTimeouts,
  SWEEP_LEASE,
  type SweepOptions,
  type SweepResult,
} from './approval-sweep.ts';
export { startApprovalSweeper, DEFAULT_SWEEP_MS, type ApprovalSweeper } from './approval-sweeper.ts';
export type { ApprovalKeys, TaskApprovalRequest } from './approval-types.ts';
export * from './approval-errors.ts';
