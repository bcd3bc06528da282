/**
 * POST /v1/runs/{id}/tasks/{taskId}/approvals: a person approves an approval task
 * (`uses: tasks/approval@1`) its run is waiting on. The approver is the token's user (never a
 * token without one: approver_unknown), in the token's namespaces; the teams the task names are
 * resolved from the server's teams file, and the engine does the rest (engine/approval-task/): the
 * run's author is refused, only the task's reviewers or teams count, the approval is signed with
 * the approval key bound to the run, its plan digest and the task, stored once per reviewer and
 * logged, and the run goes back to queued once the count is met (this process's worker is woken).
 */
import type { ApiBody } from '../core/index.ts';
import { approvalSpecOf, isApprovalTask, type TaskApprovalCount } from '../engine/index.ts';
import type { ApiContext } from './api-context.ts';
import { approverOf, teamsOf } from './approval-routes.ts';
import type { Caller } from './auth.ts';
import { ApiError } from './problem.ts';
import { findRun } from './run-routes.ts';
import { runSummary } from './run-view.ts';
import { membersOf } from './teams-file.ts';

export async function approveTaskOfRun(
  ctx: ApiContext,
  caller: Caller,
  runId: string,
  taskId: string,
): Promise<{ status: number; body: ApiBody.TaskApprovalAnswer }> {
  const run = await findRun(ctx, caller, runId);
  const plan = run.plan.tasks.find((t) => t.id === taskId);
  if (!plan || !isApprovalTask(plan))
    throw new ApiError(404, 'approval_task_not_found', `run ${runId} has no approval task ${taskId}`, {
      hint: 'GET /v1/runs/{id} lists its tasks; an approval task is one that uses tasks/approval@1',
    });
  const approver = approverOf(caller);
  const spec = approvalSpecOf(plan);
  const teams = teamsOf(ctx);
  const mine = [...spec.teams, ...spec.escalateTo.teams].filter((slug) =>
    membersOf(teams, { slug }).some((m) => m.toLowerCase() === approver.toLowerCase()),
  );
  const answer = await ctx.runtime.engine.approveTask(runId, taskId, { approver, via: 'api', teams: mine });
  ctx.logger.info({ runId, taskId, approver, recorded: answer.recorded }, 'approval task approved');
  if (answer.run.status === 'queued') ctx.wake(runId);
  const task = await ctx.runtime.store.getTask(runId, taskId);
  return {
    status: answer.recorded ? 201 : 200,
    body: {
      run: runSummary(answer.run),
      task: taskId,
      state: task.state,
      recorded: answer.recorded,
      ...countView(answer.count),
    },
  };
}

function countView(count: TaskApprovalCount) {
  return {
    required: count.required,
    satisfied: count.satisfied,
    escalated: count.escalatedAt !== undefined,
    approvals: count.approvers.map((a) => ({
      approver: a.approver,
      via: a.via,
      approvedAt: a.approvedAt,
      digest: a.digest,
    })),
    notCounted: count.notCounted,
  };
}
