/**
 * GET /v1/runs/{id}/decisions: the policy gate's decisions about the run's attempts, with their
 * reasons, read from the hash-chained decision log by run (an index on run_id), so the console's
 * run page shows why an attempt was let through or blocked, as `maestro policy log` does. With
 * the policy off there is no log: an empty list.
 */
import type { ApiBody } from '../core/index.ts';
import type { ApiContext } from './api-context.ts';
import type { Caller } from './auth.ts';
import { findRun } from './run-routes.ts';

export async function listRunDecisions(
  ctx: ApiContext,
  caller: Caller,
  id: string,
): Promise<ApiBody.PolicyDecisionList> {
  await findRun(ctx, caller, id); // the caller's namespaces, and a 404 for an unknown run
  const entries = (await ctx.runtime.decisions?.entriesOf(id)) ?? [];
  return {
    items: entries.map((e) => ({
      decisionId: e.decisionId,
      time: e.time,
      task: e.taskId,
      attempt: e.attempt,
      allow: e.allow,
      unavailable: e.unavailable,
      reasons: e.reasons,
      inputDigest: e.inputDigest,
      bundleDigest: e.bundleDigest,
    })),
  };
}
