/**
 * The legal transitions of runs and tasks. The engine asserts every transition here before it
 * stores it; an illegal one is a bug and throws IllegalTransitionError.
 */
import { RunState, TaskState } from '../core/index.ts';
import { IllegalTransitionError } from './errors.ts';

const T = TaskState;
const taskEdges: Record<TaskState, readonly TaskState[]> = {
  [T.queued]: [T.ready, T.skipped, T.cancelled, T.waitingForApproval, T.blockedByPolicy, T.failed, T.cached],
  // An approval task (`tasks/approval@1`) ends here: approved (succeeded) or timed out (failed).
  [T.waitingForApproval]: [T.queued, T.cancelled, T.succeeded, T.failed],
  // ready -> ready: the task waits for its namespace's tasks quota (reason quota_tasks).
  [T.ready]: [T.ready, T.running, T.cached, T.skipped, T.cancelled, T.blockedByPolicy, T.failed, T.queued],
  // running -> queued is a retry (or an interrupted attempt being recovered).
  [T.running]: [T.succeeded, T.failed, T.timedOut, T.cancelled, T.queued, T.cached],
  // Terminal states re-open only through a user's retry (back to queued).
  [T.succeeded]: [],
  [T.cached]: [],
  [T.failed]: [T.queued],
  [T.timedOut]: [T.queued],
  [T.cancelled]: [T.queued],
  [T.skipped]: [T.queued],
  [T.blockedByPolicy]: [T.queued],
};

const R = RunState;
const runEdges: Record<RunState, readonly RunState[]> = {
  [R.queued]: [R.running, R.cancelled, R.waitingForApproval],
  [R.waitingForApproval]: [R.queued, R.cancelled],
  // running -> waiting_for_approval: an approval task parked the run (engine/approval-task/).
  [R.running]: [R.succeeded, R.failed, R.cancelled, R.timedOut, R.waitingForApproval],
  [R.succeeded]: [],
  [R.failed]: [R.queued],
  [R.cancelled]: [R.queued],
  [R.timedOut]: [R.queued],
};

export function assertTaskTransition(from: TaskState, to: TaskState): void {
  if (!taskEdges[from].includes(to)) throw new IllegalTransitionError('task', from, to);
}

export function assertRunTransition(from: RunState, to: RunState): void {
  if (!runEdges[from].includes(to)) throw new IllegalTransitionError('run', from, to);
}
