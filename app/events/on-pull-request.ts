import type { Context } from 'probot';
import { closePullRequest } from '../gate/attestations.ts';
import { matchesRefFilter } from '../dispatch/match-trigger.ts';
import type { AppServices, RepoPayload } from './app-services.ts';
import { dispatchForPull, gatePull, pullHeadKey } from './pull-dispatch.ts';

export const PULL_REQUEST_EVENTS = [
  'pull_request.opened',
  'pull_request.synchronize',
  'pull_request.reopened',
  'pull_request.ready_for_review',
] as const;

/**
 * A pull request opened or moved: a `synchronize` records its sender as the pusher of the new
 * head; then the current head (read now, not from the payload) is validated and gated, and the
 * workflows its `pull_request` triggers match are dispatched (gated ones only when approved).
 */
export function onPullRequest(s: AppServices) {
  return async (context: Context<(typeof PULL_REQUEST_EVENTS)[number]>): Promise<void> => {
    const payload = context.payload;
    const client = s.clientFor(payload as unknown as RepoPayload);
    if (payload.action === 'synchronize' && payload.sender?.login)
      await s.deps.store.putPusher(client.fullName, payload.pull_request.head.sha, payload.sender.login);
    const gated = await gatePull(s, client, payload.pull_request.number, { validate: true });
    if (!gated) return;
    const { pr, head, gates } = gated;
    await dispatchForPull(s, client, pr, head, gates, {
      trigger: 'pull_request',
      actor: pr.user?.login ?? 'unknown',
      key: pullHeadKey(pr),
      select: (_, plan) => matchesRefFilter(plan.triggers.pull_request, pr.base.ref, undefined),
    });
  };
}

/**
 * A pull request closed: its attestations are revoked. When it was merged, those for its last
 * head whose plan is unchanged at the merge commit carry over to the merge commit (which the
 * push to the base branch then dispatches), citing the originals.
 */
export function onPullRequestClosed(s: AppServices) {
  return async (context: Context<'pull_request.closed'>): Promise<void> => {
    const client = s.clientFor(context.payload as unknown as RepoPayload);
    const pr = await s.readPullRequest(client, context.payload.pull_request.number);
    const merge = pr.merged && pr.merge_commit_sha ? pr.merge_commit_sha : undefined;
    await closePullRequest(s.gateContext(client), {
      number: pr.number,
      headSha: pr.head.sha,
      ...(merge ? { mergeCommitSha: merge } : {}),
    });
  };
}
