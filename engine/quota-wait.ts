/**
 * A task whose attempt start its namespace's tasks quota refused (TaskQuotaError, in the start's
 * own transaction: engine/store budget-sql.ts `taskQuotaSql`): it is not failed and not evicted.
 * The first refusal stores it `ready -> ready` with reason `quota_tasks` and a detail saying why
 * (what the API, the console and `maestro runs` show), and says so once in its log; that
 * transition's time is its place in the namespace's waiting line, which the store keeps FIFO
 * across replicas. Then the execution tries again every `QUOTA_POLL_MS` (a slot may free in any
 * process); the store lets it start only in its turn. Each try first asks the store whether the
 * turn has come (`quotaTurnPending`), so a waiting task costs one read a second, not a policy
 * decision (a decision-log entry) and a workspace preparation a second.
 */
import { Reason, TaskState } from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import { TaskQuotaError } from './errors.ts';

/** How often a waiting task asks again whether its turn has come. */
export const QUOTA_POLL_MS = 1_000;

/** Inside the run's queue: the wait stored once, the next try armed. */
export async function waitForQuota(
  exec: AttemptHost,
  taskId: string,
  attempt: number,
  error: TaskQuotaError,
): Promise<void> {
  const task = exec.task(taskId);
  if (task.state !== TaskState.ready) return;
  if (task.reason !== Reason.quotaTasks) {
    const detail = `waiting: namespace ${error.namespace} is at its quota of ${error.limit} tasks at once; this task starts when one of them ends, in its turn`;
    void exec.taskLog(taskId, attempt, 'system', detail);
    await exec.transitionTask(
      taskId,
      TaskState.ready,
      Reason.quotaTasks,
      `engine:${exec.ctx.owner}`,
      { notBefore: null },
      detail,
    );
  }
  exec.armQuotaWait(taskId, QUOTA_POLL_MS);
}

/**
 * Asks the store, before an attempt is prepared, whether a task of a namespace with a tasks quota
 * has its turn; when it has not, the task waits (stored once, as above) and true is returned: no
 * policy decision, no workspace, no start for a try the quota would refuse. A task of a namespace
 * without one (the budget as the guard keeps it: budget-reads.ts) costs no read. Only the start's
 * own count, inside its transaction, decides: a turn this read saw may be gone by then.
 */
export async function quotaTurnPending(exec: AttemptHost, taskId: string, attempt: number): Promise<boolean> {
  const { store, clock } = exec.ctx;
  const now = clock.now();
  const budget = await exec.budgetReads.budget(store, exec.run.namespace, now);
  const waiting = exec.task(taskId).reason === Reason.quotaTasks;
  if (budget?.maxTasks == null && !waiting) return false;
  if (await store.taskQuotaTurn(exec.runId, taskId, now)) return false;
  if (waiting) exec.armQuotaWait(taskId, QUOTA_POLL_MS);
  else {
    const error = new TaskQuotaError(exec.run.namespace, budget!.maxTasks!);
    await exec.serial(() => waitForQuota(exec, taskId, attempt, error));
  }
  return true;
}
