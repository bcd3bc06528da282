import type { Plan, PolicyInput, RunnerPosture, TaskCatalog } from '../../core/index.ts';

export interface PolicyInputOptions {
  actor: string;
  /** Resolves catalog tasks' `targetInputs` (which `with` keys hold the hosts they contact). */
  catalog?: TaskCatalog;
  approvalDigest?: string;
  /**
   * The task's `with` as dispatch resolved it (the engine passes it before every attempt); else
   * the plan's literal values. Only the host of each target input is read from it: never a URL's
   * path, query or userinfo, so a URL held in a secret gives policy its host and nothing more.
   */
  resolvedWith?: Record<string, unknown>;
  /**
   * What the task's runner is configured to grant (Runner.posture). The engine always passes it;
   * without it (`maestro policy eval` on a plan alone) both values are false.
   */
  posture?: RunnerPosture;
}

/**
 * The policy input document for one plan task (schemas/policy-input.schema.json). Pure: used by
 * `maestro policy eval`, and by the engine before each attempt (with `resolvedWith`). Hosts come
 * from the catalog entry's targetInputs whose values are URLs; a value still holding an
 * expression, or not a URL with a host, gives no host (the default rules then treat an HTTP
 * task's hosts as unknown: fail closed).
 */
export function policyInputFor(plan: Plan, taskId: string, options: PolicyInputOptions): PolicyInput {
  const task = plan.tasks.find((t) => t.id === taskId);
  if (!task) throw new RangeError(`no task ${taskId} in plan ${plan.workflow.name}`);
  const action = task.action;
  const input: PolicyInput = {
    task: {
      id: task.id,
      kind: action.type,
      runner: task.runner,
      resources: task.resources,
      targetHosts: [],
      privileged: options.posture?.privileged ?? false,
      hostNetwork: options.posture?.hostNetwork ?? false,
    },
    workflow: {
      name: plan.workflow.name,
      namespace: plan.workflow.namespace,
      kind: plan.workflow.kind,
      labels: plan.workflow.labels,
    },
    planDigest: plan.digest,
    namespace: plan.workflow.namespace,
    policy: plan.policy ?? {},
    actor: options.actor,
  };
  if (options.posture?.cluster) input.task.cluster = options.posture.cluster;
  if (action.type === 'container') input.task.image = action.image;
  if (action.type === 'catalog') {
    input.task.uses = `${action.name}@${action.version}`;
    const entry = options.catalog?.versions(action.name).find((e) => e.version === action.version);
    if (entry?.image) input.task.image = entry.image;
    const values = options.resolvedWith ?? task.with;
    for (const key of entry?.targetInputs ?? []) {
      const host = hostOf(values[key]);
      if (host && !input.task.targetHosts.includes(host)) input.task.targetHosts.push(host);
    }
  }
  if (options.approvalDigest) input.approvalDigest = options.approvalDigest;
  return input;
}

function hostOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.includes('${')) return undefined;
  try {
    return new URL(value).hostname || undefined;
  } catch {
    return undefined;
  }
}
