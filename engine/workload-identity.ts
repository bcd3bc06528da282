/**
 * `${workload.identity}` for one task of one run: minted (signed) only for a task whose templates
 * use it, when its dispatch context is built, and redacted like a secret wherever inputs, logs or
 * errors are stored (it is a bearer credential). The signing key stays with the issuer.
 */
import type { PlanTask } from '../core/index.ts';
import type { WorkloadIdentityRequest } from '../provenance/index.ts';

export type WorkloadIdentityIssuer = (request: WorkloadIdentityRequest) => Promise<string>;

const USES = /\bworkload\s*\.\s*identity\b/;

/** Whether the task's `with`, `env`, argv or condition reference `workload.identity`. */
export function usesWorkloadIdentity(task: PlanTask): boolean {
  const action = task.action as { argv?: unknown; command?: unknown; args?: unknown };
  const text = JSON.stringify([task.with, task.env, action.argv, action.command, action.args]);
  return USES.test(text);
}
