/**
 * POST /v1/runbooks/{namespace}/{name}/trigger (SM-213): SIG starts an allow-listed runbook. In
 * order, each refusal before anything is stored: the token's namespaces, the server's allow-list
 * (runbooks-file.ts; no file allows nothing), the stored workflow the runbook names, then the
 * policy decision point, asked for every task of the plan with the request's purpose, authority
 * and license as the input's `policy` (the runbook gives the workflow and task facts) and each
 * task's `with` rendered with the request's params (engine/params.ts withBeforeRun), so the hosts
 * a param names are the hosts policy judges; a host only a secret knows stays unknown and is
 * denied. Each
 * decision lands in the hash-chained decision log under the run id the trigger would get (attempt
 * 0: a trigger, not an attempt). Only when every task is allowed is that exact plan submitted,
 * as POST /v1/runs would: the policy then asks again before each attempt, as for any run.
 */
import { randomUUID } from 'node:crypto';
import { isPolicyOff, type PolicyDecision, type SigRunbookTrigger } from '../core/index.ts';
import { resolveParams, withBeforeRun } from '../engine/index.ts';
import { policyInputFor } from '../policy/index.ts';
import type { ApiContext } from './api-context.ts';
import { assertNamespace, type Caller } from './auth.ts';
import { ApiError } from './problem.ts';
import { isAllowedRunbook, readRunbooksFile, type RunbookAllowList } from './runbooks-file.ts';

/** The body as the route's schema (the contract's TriggerRequest, v3) has checked it. */
export type TriggerBody = SigRunbookTrigger.TriggerRequest1;

export interface RunbookRef {
  namespace: string;
  name: string;
}

function allowListOf(ctx: ApiContext): RunbookAllowList {
  try {
    return readRunbooksFile(ctx.runbooksFile);
  } catch (error) {
    ctx.logger.error({ err: error }, 'runbooks file unreadable');
    throw new ApiError(503, 'runbooks_unavailable', 'the server cannot read its runbooks file', {
      hint: 'the operator must fix MAESTRO_RUNBOOKS_FILE (the server log says what is wrong)',
    });
  }
}

async function decideEveryTask(
  ctx: ApiContext,
  caller: Caller,
  plan: Parameters<typeof policyInputFor>[0],
  body: TriggerBody,
  runId: string,
): Promise<PolicyDecision[]> {
  const gate = ctx.runtime.policy;
  if (isPolicyOff(gate))
    throw new ApiError(403, 'policy_off', 'runbook triggers need a policy decision point; policy is off', {
      hint: `the server runs with policy off (${gate.source}); start it with --policy default or a bundle`,
    });
  // Unknown or ill-typed params are refused here (400), before any decision is logged.
  const params = resolveParams(plan, body.params ?? {});
  const decisions: PolicyDecision[] = [];
  for (const task of plan.tasks) {
    const input = policyInputFor(plan, task.id, {
      actor: caller.user,
      catalog: ctx.runtime.catalog,
      resolvedWith: withBeforeRun(task, params),
    });
    input.policy = { purpose: body.purpose, authority: body.authority, license: body.license };
    decisions.push(await gate.decide(input, { runId, taskId: task.id, attempt: 0 }));
  }
  return decisions;
}

export async function triggerRunbook(
  ctx: ApiContext,
  caller: Caller,
  ref: RunbookRef,
  body: TriggerBody,
  /** The request's trace context (request-tracing.ts): the run's trace continues it. */
  traceParent?: string,
): Promise<SigRunbookTrigger.TriggerResult> {
  assertNamespace(caller, ref.namespace);
  const version = body.contractVersion ?? 1;
  const correlationId = body.correlationId ?? body.requestId;
  const log = ctx.logger.child({ runbook: `${ref.namespace}/${ref.name}`, correlationId, version });
  // 403, not 404: the answer is the same whether or not such a workflow is stored.
  if (!isAllowedRunbook(allowListOf(ctx), ref.namespace, ref.name)) {
    log.warn('runbook trigger refused: not on the allow-list');
    throw new ApiError(
      403,
      'runbook_not_allowed',
      `runbook ${ref.namespace}/${ref.name} is not on this server's allow-list`,
      { hint: 'the operator lists triggerable runbooks per namespace in MAESTRO_RUNBOOKS_FILE' },
    );
  }
  const workflow = await ctx.apiStore.latestWorkflow(ref.namespace, ref.name);
  if (!workflow)
    throw new ApiError(404, 'runbook_not_found', `no workflow ${ref.namespace}/${ref.name} is stored`, {
      hint: 'POST the runbook manifest to /v1/workflows first',
    });
  const runId = `r-${randomUUID()}`;
  const decisions = await decideEveryTask(ctx, caller, workflow.plan, body, runId);
  const denied = decisions.filter((d) => !d.allow);
  if (denied.length) {
    const reasons = denied.flatMap((d) => d.reasons).join('; ') || 'no reason given';
    log.warn({ decisions: denied.map((d) => d.decisionId) }, 'runbook trigger denied by policy');
    throw new ApiError(
      403,
      denied.some((d) => d.unavailable) ? 'policy_unavailable' : 'policy_denied',
      `policy denied runbook ${ref.namespace}/${ref.name} (decision ${denied[0]!.decisionId}): ${reasons}`,
      { hint: 'the purpose, authority and license of the request must satisfy the server policy' },
    );
  }
  const gated = workflow.plan.approvals !== undefined;
  await ctx.runtime.engine.submit(workflow.plan, {
    runId,
    params: body.params ?? {},
    trigger: 'api',
    actor: caller.user,
    // An operator-issued token with runbooks:trigger, for a runbook the operator allow-listed.
    trust: 'trusted',
    ...(traceParent !== undefined ? { traceParent } : {}),
    ...(gated ? { awaitApproval: true } : {}),
  });
  if (!gated) ctx.wake(runId);
  log.info({ runId }, 'runbook triggered');
  return {
    runId,
    status: gated ? 'waiting_approval' : 'queued',
    decisionId: decisions[0]?.decisionId ?? '',
    ...(version >= 3 && correlationId !== undefined ? { correlationId } : {}),
  };
}
