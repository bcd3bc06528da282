/**
 * Asks the PolicyGate before an attempt. Deny -> blocked_by_policy (policy_denied) with the
 * reasons in the task's log; a throw -> blocked_by_policy (policy_unavailable): fail closed.
 * Only the explicit `policy: off` value skips the question. One exception: a retryable system
 * failure (the shared decision log's database lost its connection under the append) gives the
 * run up instead, as any store failure does. Still closed (the task did not run), but not final:
 * the next executor asks again, so a database restart does not block tasks for good.
 */
import { Fault, Reason, TaskState, describeError, isMaestroError, isPolicyOff } from '../core/index.ts';
import { policyInputFor } from '../policy/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import { startPolicySpan } from './trace-context.ts';

type PolicyAnswer = { allowed: boolean; decisionIds: string[]; egressAllowedHosts?: string[] };

/**
 * `resolvedWith`: the task's `with` as dispatch resolved it (engine/attempt-prepare.ts), so a
 * catalog task's target hosts are those it will contact. Only hosts leave it: policyInputFor
 * reads the host of each target input and nothing else.
 */
export async function checkPolicy(
  exec: AttemptHost,
  taskId: string,
  attempt: number,
  resolvedWith?: Record<string, unknown>,
): Promise<PolicyAnswer> {
  // Stated once on the run's log when it starts (run-execution.ts), and in every receipt.
  if (isPolicyOff(exec.ctx.policy)) return { allowed: true, decisionIds: [] };
  // Each decision is a span of the run's trace, with its id (the decision log's key) and outcome.
  const span = startPolicySpan(exec.ctx.tracer, exec.span, {
    runId: exec.runId,
    workflow: exec.run.workflow,
    taskId,
    attempt,
  });
  try {
    const answer = await decide(exec, taskId, attempt, resolvedWith);
    span.setAttribute('maestro.policy.outcome', answer.allowed ? 'allow' : 'deny');
    if (answer.decisionIds[0]) span.setAttribute('maestro.policy.decision_id', answer.decisionIds[0]);
    return answer;
  } finally {
    span.end();
  }
}

async function decide(
  exec: AttemptHost,
  taskId: string,
  attempt: number,
  resolvedWith: Record<string, unknown> | undefined,
): Promise<PolicyAnswer> {
  const gate = exec.ctx.policy;
  if (isPolicyOff(gate)) return { allowed: true, decisionIds: [] };
  const by = 'policy';
  try {
    const run = exec.run;
    const task = exec.planTask(taskId);
    // The runner's real configuration, so the privileged and host-network rules can fire. A
    // runner missing here fails the attempt right after (run-attempt.ts), before anything starts.
    const posture = exec.ctx.runners
      .get(task.runner)
      ?.posture({ resources: task.resources, namespace: run.namespace });
    const input = policyInputFor(run.plan, taskId, {
      actor: run.actor,
      ...(posture ? { posture } : {}),
      ...(exec.ctx.catalog ? { catalog: exec.ctx.catalog } : {}),
      ...(run.approvalDigest ? { approvalDigest: run.approvalDigest } : {}),
      ...(resolvedWith ? { resolvedWith } : {}),
    });
    const decision = await gate.decide(input, { runId: exec.runId, taskId, attempt });
    if (decision.allow)
      return {
        allowed: true,
        decisionIds: [decision.decisionId],
        ...(decision.egressAllowedHosts ? { egressAllowedHosts: decision.egressAllowedHosts } : {}),
      };
    const reasons = decision.reasons.join('; ') || 'no reason given';
    void exec.taskLog(
      taskId,
      attempt,
      'system',
      `policy denied (decision ${decision.decisionId}): ${reasons}`,
    );
    await exec.serial(() =>
      exec.transitionTask(
        taskId,
        TaskState.blockedByPolicy,
        decision.unavailable ? Reason.policyUnavailable : Reason.policyDenied,
        by,
        undefined,
        reasons,
      ),
    );
  } catch (error) {
    if (isMaestroError(error) && error.fault === Fault.system && error.retryable) {
      exec.abandon(`policy could not be asked: ${describeError(error)}`);
      return { allowed: false, decisionIds: [] };
    }
    void exec.taskLog(taskId, attempt, 'system', `policy unavailable: ${describeError(error)}`);
    await exec.serial(() =>
      exec.transitionTask(
        taskId,
        TaskState.blockedByPolicy,
        Reason.policyUnavailable,
        by,
        undefined,
        describeError(error),
      ),
    );
  }
  return { allowed: false, decisionIds: [] };
}
