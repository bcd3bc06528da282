import type { Context } from 'probot';
import { isManualRunIdentifier, manualRunIdentifier, manualWorkflows } from '../checks/render-validate.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { hasWriteAccess } from '../github/has-write-access.ts';
import type { AppServices } from './app-services.ts';
import { dispatchAtBranchHead, readBranchHead } from './pull-dispatch.ts';

type CheckRunContext = Context<'check_run.requested_action' | 'check_run.rerequested'>;

/** Whether a check-run event is a press of a validate check run's "Run <workflow>" button. */
export function isManualRunRequest(context: CheckRunContext): boolean {
  const payload = context.payload;
  return (
    payload.action === 'requested_action' &&
    (payload.check_run.external_id ?? '').startsWith('validate:') &&
    isManualRunIdentifier(payload.requested_action?.identifier ?? '')
  );
}

/**
 * "Run <workflow>" on the default branch head's validate check run: only for a sender with write
 * access, only while that commit is still the default branch's head (an older commit's button
 * does nothing: what runs by hand is what is merged now), only for a workflow whose plan there
 * allows manual runs, and under the default branch's gate rules, like `/maestro run` on an issue.
 */
export async function onManualRun(
  s: AppServices,
  client: GitHubClient,
  context: CheckRunContext,
): Promise<void> {
  const payload = context.payload;
  const engines = s.deps.engines;
  if (!engines) return;
  const actor = payload.sender.login;
  const identifier =
    payload.action === 'requested_action' ? (payload.requested_action?.identifier ?? '') : '';
  const sha = payload.check_run.head_sha;
  if (!(await hasWriteAccess(client, actor))) {
    context.log.info({ actor, identifier }, 'manual run ignored: the sender has no write access');
    return;
  }
  const branch = payload.repository.default_branch;
  const head = await readBranchHead(client, branch);
  if (head !== sha) {
    context.log.info({ actor, sha, head }, 'manual run ignored: not the default branch head');
    return;
  }
  const { compiled } = await s.commitAt(client, sha);
  const chosen = manualWorkflows(compiled).find(([workflow]) => manualRunIdentifier(workflow) === identifier);
  if (!chosen) return;
  const [workflow, plan] = chosen;
  await dispatchAtBranchHead(s, client, engines, {
    workflow,
    plan,
    compiled,
    sha,
    branch,
    cloneUrl: payload.repository.clone_url,
    trigger: 'manual',
    actor,
    key: `delivery:${context.id}`,
  });
}
