import type { Context } from 'probot';
import { digestsOf } from '../gate/approval-gate.ts';
import type { AppServices, RepoPayload } from './app-services.ts';

export const REVIEW_EVENTS = [
  'pull_request_review.submitted',
  'pull_request_review.dismissed',
  'pull_request_review.edited',
] as const;

/** A review changed: evaluate the gate again at the pull request's current head. */
export function onReview(s: AppServices) {
  return async (context: Context<(typeof REVIEW_EVENTS)[number]>): Promise<void> => {
    const client = s.clientFor(context.payload as unknown as RepoPayload);
    // The review event may be older than the pull request's current head: read the head now.
    const pr = await s.readPullRequest(client, context.payload.pull_request.number);
    const snapshot = await s.snapshotAt(client, pr.head.sha);
    const compiled = s.compileAll(snapshot);
    s.deps.store.putPlanDigests(client.fullName, pr.head.sha, digestsOf(compiled));
    await s.gate(client, pr, snapshot, compiled);
  };
}
