import type { Context } from 'probot';
import { dispatchWorkflow } from '../dispatch/dispatch-runs.ts';
import { plansByWorkflow } from '../source/compile-snapshot.ts';
import type { AppServices, RepoPayload } from './app-services.ts';

const RUN_COMMAND = /^\/maestro\s+run\s+(\S+)\s*$/m;
const WRITE_PERMISSIONS = new Set(['admin', 'maintain', 'write']);

/**
 * `/maestro run <workflow>` in a comment by a writer: runs it at the pull request's head, or at
 * the default branch's head on an issue.
 */
export function onComment(s: AppServices) {
  return async (context: Context<'issue_comment.created'>): Promise<void> => {
    const payload = context.payload;
    const match = RUN_COMMAND.exec(payload.comment.body);
    const engines = s.deps.engines;
    if (!match || !engines) return;
    const client = s.clientFor(payload as unknown as RepoPayload);
    const login = payload.comment.user?.login ?? '';
    const permission = await client.call('read commenter permission', (octokit) =>
      octokit.rest.repos.getCollaboratorPermissionLevel({
        owner: client.owner,
        repo: client.repo,
        username: login,
      }),
    );
    if (
      !WRITE_PERMISSIONS.has(permission.data.permission) &&
      !WRITE_PERMISSIONS.has(permission.data.role_name ?? '')
    )
      return;
    let sha: string;
    let fromFork = false;
    if (payload.issue.pull_request) {
      const pr = await s.readPullRequest(client, payload.issue.number);
      sha = pr.head.sha;
      fromFork = pr.head.repo?.full_name !== pr.base.repo.full_name;
    } else {
      const branch = await client.call('read default branch', (octokit) =>
        octokit.rest.repos.getBranch({
          owner: client.owner,
          repo: client.repo,
          branch: payload.repository.default_branch,
        }),
      );
      sha = branch.data.commit.sha;
    }
    const compiled = s.compileAll(await s.snapshotAt(client, sha));
    const wanted = match[1]!;
    const entry = [...plansByWorkflow(compiled)].find(
      ([key, { plan }]) => key === wanted || plan.workflow.name === wanted,
    );
    if (!entry) return;
    await dispatchWorkflow(s.dispatchContext(client, engines), {
      plan: entry[1].plan,
      headSha: sha,
      trigger: 'comment',
      actor: login,
      fromFork,
    });
  };
}
