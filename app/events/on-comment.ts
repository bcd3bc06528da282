import type { Context } from 'probot';
import { hasWriteAccess } from '../github/has-write-access.ts';
import { plansByWorkflow } from '../source/compile-snapshot.ts';
import type { AppServices, RepoPayload } from './app-services.ts';
import { dispatchAtBranchHead, dispatchForPull, gatePull, readBranchHead } from './pull-dispatch.ts';

const RUN_COMMAND = /^\/maestro\s+run\s+(\S+)\s*$/m;

/**
 * `/maestro run <workflow>` in a comment by a writer: on an open pull request it runs the
 * workflow at the head under that pull request's gate; on an issue, at the default branch's
 * head, where a gated workflow needs the attestation carried to that commit by a merge.
 */
export function onComment(s: AppServices) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const payload = context.payload;
    const match = RUN_COMMAND.exec(payload.comment.body);
    const engines = s.deps.engines;
    if (!match || !engines) return;
    const client = s.clientFor(payload as unknown as RepoPayload);
    const login = payload.comment.user?.login ?? '';
    if (!(await hasWriteAccess(client, login))) return;
    const wanted = match[1]!;
    const chosen = (workflow: string, name: string) => workflow === wanted || name === wanted;
    const key = `delivery:${context.id}`;
    if (payload.issue.pull_request) {
      const gated = await gatePull(s, client, payload.issue.number, { validate: false });
      if (!gated) return;
      await dispatchForPull(s, client, gated.pr, gated.head, gated.gates, {
        trigger: 'comment',
        actor: login,
        key,
        select: (workflow, plan) => chosen(workflow, plan.workflow.name),
      });
      return;
    }
    const branch = payload.repository.default_branch;
    const sha = await readBranchHead(client, branch);
    const { compiled } = await s.commitAt(client, sha);
    const entry = [...plansByWorkflow(compiled)].find(([workflow, { plan }]) =>
      chosen(workflow, plan.workflow.name),
    );
    if (!entry) return;
    await dispatchAtBranchHead(s, client, engines, {
      workflow: entry[0],
      plan: entry[1].plan,
      compiled,
      sha,
      branch,
      cloneUrl: payload.repository.clone_url,
      trigger: 'comment',
      actor: login,
      key,
    });
  };
}
