import type { Context } from 'probot';
import { dispatchWorkflow } from '../dispatch/dispatch-runs.ts';
import { matchesRefFilter } from '../dispatch/match-trigger.ts';
import { plansByWorkflow } from '../source/compile-snapshot.ts';
import type { AppServices, RepoPayload } from './app-services.ts';

export const PULL_REQUEST_EVENTS = [
  'pull_request.opened',
  'pull_request.synchronize',
  'pull_request.reopened',
  'pull_request.ready_for_review',
] as const;

/**
 * A pull request opened or moved: validate its current head (read now, not from the payload),
 * evaluate its gate, and dispatch the workflows its `pull_request` triggers match.
 */
export function onPullRequest(s: AppServices) {
  return async (context: Context<(typeof PULL_REQUEST_EVENTS)[number]>): Promise<void> => {
    const client = s.clientFor(context.payload as unknown as RepoPayload);
    const pr = await s.readPullRequest(client, context.payload.pull_request.number);
    const { snapshot, compiled } = await s.validate(client, pr.head.sha);
    await s.gate(client, pr, snapshot, compiled);
    const engines = s.deps.engines;
    if (!engines) return;
    const fromFork = pr.head.repo?.full_name !== pr.base.repo.full_name;
    for (const { plan } of plansByWorkflow(compiled).values()) {
      if (!matchesRefFilter(plan.triggers.pull_request, pr.base.ref, undefined)) continue;
      await dispatchWorkflow(s.dispatchContext(client, engines), {
        plan,
        headSha: pr.head.sha,
        trigger: 'pull_request',
        actor: pr.user?.login ?? 'unknown',
        fromFork,
      });
    }
  };
}
