import type { Context } from 'probot';
import { startRun } from '../dispatch/dispatch-runs.ts';
import { matchesRefFilter } from '../dispatch/match-trigger.ts';
import { approveTasksFromReviews } from '../gate/task-approvals.ts';
import type { AppServices, RepoPayload } from './app-services.ts';
import { dispatchForPull, gatePull, pullHeadKey } from './pull-dispatch.ts';

export const REVIEW_EVENTS = [
  'pull_request_review.submitted',
  'pull_request_review.dismissed',
  'pull_request_review.edited',
] as const;

/**
 * A review changed: evaluate the gate again at the pull request's current head, and start the
 * `pull_request` runs that were waiting for this approval (once per head: the same key as the
 * pull request's own dispatch, so nothing runs twice). Then the approving reviews approve the
 * approval tasks this pull request's runs at that head are parked on (gate/task-approvals.ts),
 * and a run that goes back to queued is executed here, reserved from its move to queued.
 */
export function onReview(s: AppServices) {
  return async (context: Context<(typeof REVIEW_EVENTS)[number]>): Promise<void> => {
    const client = s.clientFor(context.payload as unknown as RepoPayload);
    // The review event may be older than the pull request's current head: read the head now.
    const gated = await gatePull(s, client, context.payload.pull_request.number, { validate: false });
    if (!gated) return;
    const { pr, head, gates } = gated;
    await dispatchForPull(s, client, pr, head, gates, {
      trigger: 'pull_request',
      actor: pr.user?.login ?? 'unknown',
      key: pullHeadKey(pr),
      select: (workflow, plan) =>
        gates.get(workflow)?.satisfied === true &&
        matchesRefFilter(plan.triggers.pull_request, pr.base.ref, undefined),
    });
    const engines = s.deps.engines;
    if (!engines) return;
    for (const { stored, engine } of await approveTasksFromReviews(s, client, pr))
      await startRun(s.dispatchContext(client, engines), engine, stored.runId, stored.headSha, (id) =>
        engine.execute(id),
      );
  };
}
