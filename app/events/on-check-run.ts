import type { Context } from 'probot';
import type { StoredRun } from '../app-store.ts';
import { writeCheckRun } from '../checks/check-runs.ts';
import { CANCEL_ACTION, RETRY_ACTION, RUN_CHECK_PREFIX } from '../checks/render-run.ts';
import { approvalFor, dispatchWorkflow, startRun, type ApprovalNeed } from '../dispatch/dispatch-runs.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { hasWriteAccess } from '../github/has-write-access.ts';
import type { AppServices, RepoPayload } from './app-services.ts';
import { gatePull } from './pull-dispatch.ts';
import { isManualRunRequest, onManualRun } from './on-manual-run.ts';

export const CHECK_RUN_EVENTS = ['check_run.requested_action', 'check_run.rerequested'] as const;

/**
 * Buttons on check runs: re-validate (anyone who can see it), "Run <workflow>" on the default
 * branch head's validate check run (on-manual-run.ts), and, only for a sender with write
 * access, Cancel, Retry failed and Re-run (`rerequested`). Retry and Re-run of a gated run check
 * the gate and the attestation again first: a pull request's gate is re-evaluated (so a closed
 * pull request, a moved head or a withdrawn approval stops them), then the attestation for the
 * run's exact head is verified.
 */
export function onCheckRun(s: AppServices) {
  return async (context: Context<(typeof CHECK_RUN_EVENTS)[number]>): Promise<void> => {
    const payload = context.payload;
    const client = s.clientFor(payload as unknown as RepoPayload);
    const externalId = payload.check_run.external_id ?? '';
    if (isManualRunRequest(context)) {
      await onManualRun(s, client, context);
      return;
    }
    if (externalId.startsWith('validate:')) {
      await s.validate(client, payload.check_run.head_sha);
      return;
    }
    const engines = s.deps.engines;
    if (!externalId.startsWith('run:') || !engines) return;
    const run = await s.deps.store.getRun(externalId.slice(4));
    if (!run || run.repo !== client.fullName) return;
    const actor = payload.sender.login;
    if (!(await hasWriteAccess(client, actor))) {
      context.log.info(
        { actor, runId: run.runId },
        'check-run action ignored: the sender has no write access',
      );
      return;
    }
    const engine = run.fromFork ? engines.untrusted : engines.trusted;
    const identifier = payload.action === 'requested_action' ? payload.requested_action?.identifier : 'rerun';
    if (identifier === CANCEL_ACTION) {
      await engine.cancel(run.runId, { by: actor });
      return;
    }
    if (identifier !== RETRY_ACTION && identifier !== 'rerun') return;
    const { plan, source } = await engine.store.getRun(run.runId);
    const approval = await approvalNeedOf(s, client, run);
    if (identifier === 'rerun') {
      await dispatchWorkflow(s.dispatchContext(client, engines), {
        plan,
        headSha: run.headSha,
        trigger: 'rerun',
        actor,
        fromFork: run.fromFork,
        key: `delivery:${context.id}`,
        approval,
        // A re-run runs the same code: the run's recorded source, never the payload's.
        source: source ?? undefined,
      });
      return;
    }
    if (approval.gated) {
      const found = await approvalFor(
        s.dispatchContext(client, engines),
        { plan, headSha: run.headSha, approval },
        run.workflow,
      );
      if ('problem' in found) {
        await refuseRetry(client, s, run, found.problem);
        return;
      }
    }
    // Reserved from its move back to queued: another replica's worker must not claim it before
    // this process (which reports its check run) executes it.
    await engine.retry(run.runId, { by: actor, reserve: true });
    await startRun(s.dispatchContext(client, engines), engine, run.runId, run.headSha, (id) =>
      engine.execute(id),
    );
  };
}

/** A gated run's need, with its pull request's gate evaluated again now (when it had one). */
async function approvalNeedOf(s: AppServices, client: GitHubClient, run: StoredRun): Promise<ApprovalNeed> {
  if (!run.gated) return { gated: false };
  if (run.pullRequest === undefined) return { gated: true };
  const gated = await gatePull(s, client, run.pullRequest, { validate: false });
  // A closed pull request: its attestations are revoked; base '' matches none of them.
  return { gated: true, pullRequest: { number: run.pullRequest, baseSha: gated?.pr.base.sha ?? '' } };
}

async function refuseRetry(client: GitHubClient, s: AppServices, run: StoredRun, problem: string) {
  await writeCheckRun(client, s.deps.store, {
    name: `${RUN_CHECK_PREFIX} ${run.workflow}`,
    headSha: run.headSha,
    externalId: `refused-retry:${run.runId}`,
    status: 'completed',
    conclusion: 'action_required',
    title: `${run.workflow} was not retried: approval required`,
    summary: `${problem}.\n\nRetry re-checks the gate: the run's approval no longer holds for its head commit.`,
  });
}
