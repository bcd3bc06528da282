/**
 * Asks the PolicyGate before an attempt. Deny -> blocked_by_policy (policy_denied) with the
 * reasons in the task's log; a throw -> blocked_by_policy (policy_unavailable): fail closed.
 */
import { Reason, TaskState, describeError, type PolicyInput } from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';

function targetHosts(exec: AttemptHost, taskId: string): string[] {
  const plan = exec.planTask(taskId);
  if (plan.action.type !== 'catalog') return [];
  const action = plan.action;
  const entry = exec.ctx.catalog?.versions(action.name).find((e) => e.version === action.version);
  const hosts: string[] = [];
  for (const key of entry?.targetInputs ?? []) {
    const value = plan.with[key];
    if (typeof value !== 'string') continue;
    try {
      hosts.push(new URL(value).host);
    } catch {
      // An expression resolved only at dispatch: no host known before resolution.
    }
  }
  return hosts;
}

export function policyInputFor(exec: AttemptHost, taskId: string): PolicyInput {
  const plan = exec.planTask(taskId);
  const run = exec.run;
  const input: PolicyInput = {
    task: {
      id: taskId,
      kind: plan.action.type,
      runner: plan.runner,
      resources: plan.resources,
      targetHosts: targetHosts(exec, taskId),
      privileged: false,
      hostNetwork: false,
    },
    workflow: {
      name: run.workflow,
      namespace: run.namespace,
      kind: run.plan.workflow.kind,
      labels: run.plan.workflow.labels,
    },
    planDigest: run.planDigest,
    namespace: run.namespace,
    policy: run.plan.policy ?? {},
    actor: run.actor,
  };
  if (plan.action.type === 'container') input.task.image = plan.action.image;
  if (plan.action.type === 'catalog') input.task.uses = `${plan.action.name}@${plan.action.version}`;
  if (run.approvalDigest) input.approvalDigest = run.approvalDigest;
  return input;
}

export async function checkPolicy(
  exec: AttemptHost,
  taskId: string,
  attempt: number,
): Promise<{ allowed: boolean; decisionIds: string[] }> {
  const gate = exec.ctx.policy;
  if (!gate) return { allowed: true, decisionIds: [] };
  const by = 'policy';
  try {
    const decision = await gate.decide(policyInputFor(exec, taskId), { runId: exec.runId, taskId, attempt });
    if (decision.allow) return { allowed: true, decisionIds: [decision.decisionId] };
    const reasons = decision.reasons.join('; ') || 'no reason given';
    exec.taskLog(taskId, attempt, 'system', `policy denied (decision ${decision.decisionId}): ${reasons}`);
    exec.transitionTask(
      taskId,
      TaskState.blockedByPolicy,
      decision.unavailable ? Reason.policyUnavailable : Reason.policyDenied,
      by,
      undefined,
      reasons,
    );
  } catch (error) {
    exec.taskLog(taskId, attempt, 'system', `policy unavailable: ${describeError(error)}`);
    exec.transitionTask(
      taskId,
      TaskState.blockedByPolicy,
      Reason.policyUnavailable,
      by,
      undefined,
      describeError(error),
    );
  }
  return { allowed: false, decisionIds: [] };
}
