import type { Context } from 'probot';
import { dispatchWorkflow, gitSource } from '../dispatch/dispatch-runs.ts';
import { matchesRefFilter } from '../dispatch/match-trigger.ts';
import { plansByWorkflow } from '../source/compile-snapshot.ts';
import type { AppServices, RepoPayload } from './app-services.ts';
import { branchApproval } from './pull-dispatch.ts';

/**
 * A push: record who pushed the new head (the gate's "last pusher"), validate it, and on the
 * default branch dispatch the workflows its triggers match (once per delivery).
 */
export function onPush(s: AppServices) {
  return async (context: Context<'push'>): Promise<void> => {
    const payload = context.payload;
    if (payload.deleted || /^0+$/.test(payload.after)) return;
    const client = s.clientFor(payload as unknown as RepoPayload);
    if (payload.sender?.login)
      await s.deps.store.putPusher(client.fullName, payload.after, payload.sender.login);
    const branch = payload.ref.replace(/^refs\/heads\//, '');
    const onDefault = payload.ref.startsWith('refs/heads/') && branch === payload.repository.default_branch;
    // The default branch's head gets "Run <workflow>" buttons for its manual workflows.
    const { compiled } = await s.validate(client, payload.after, { manualActions: onDefault });
    if (!onDefault) return;
    const engines = s.deps.engines;
    if (!engines) return;
    const changed = payload.commits.flatMap((c) => [
      ...(c.added ?? []),
      ...(c.modified ?? []),
      ...(c.removed ?? []),
    ]);
    const before = /^0+$/.test(payload.before)
      ? undefined
      : (await s.commitAt(client, payload.before)).compiled;
    for (const [workflow, { plan }] of plansByWorkflow(compiled)) {
      if (!matchesRefFilter(plan.triggers.push, branch, payload.commits.length > 0 ? changed : undefined))
        continue;
      await dispatchWorkflow(s.dispatchContext(client, engines), {
        plan,
        headSha: payload.after,
        trigger: 'push',
        actor: payload.sender?.login ?? payload.pusher.name,
        fromFork: false,
        key: `delivery:${context.id}`,
        approval: branchApproval(s, plan, workflow, before),
        source: gitSource(payload.repository.clone_url, payload.after, payload.ref),
      });
    }
  };
}
