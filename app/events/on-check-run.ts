import type { Context } from 'probot';
import { CANCEL_ACTION, RETRY_ACTION } from '../checks/render-run.ts';
import { dispatchWorkflow, startRun } from '../dispatch/dispatch-runs.ts';
import type { AppServices, RepoPayload } from './app-services.ts';

export const CHECK_RUN_EVENTS = ['check_run.requested_action', 'check_run.rerequested'] as const;

/** Buttons on check runs: re-validate, Cancel, Retry failed, and Re-run (`rerequested`). */
export function onCheckRun(s: AppServices) {
  return async (context: Context<(typeof CHECK_RUN_EVENTS)[number]>): Promise<void> => {
    const payload = context.payload;
    const client = s.clientFor(payload as unknown as RepoPayload);
    const externalId = payload.check_run.external_id ?? '';
    if (externalId.startsWith('validate:')) {
      await s.validate(client, payload.check_run.head_sha);
      return;
    }
    const engines = s.deps.engines;
    if (!externalId.startsWith('run:') || !engines) return;
    const run = s.deps.store.getRun(externalId.slice(4));
    if (!run || run.repo !== client.fullName) return;
    const engine = run.fromFork ? engines.untrusted : engines.trusted;
    const actor = payload.sender.login;
    const identifier = payload.action === 'requested_action' ? payload.requested_action?.identifier : 'rerun';
    if (identifier === CANCEL_ACTION) {
      await engine.cancel(run.runId, { by: actor });
    } else if (identifier === RETRY_ACTION) {
      engine.retry(run.runId, { by: actor });
      startRun(s.dispatchContext(client, engines), engine, run.runId, run.headSha, (id) =>
        engine.execute(id),
      );
    } else if (identifier === 'rerun') {
      const previous = engine.store.getRun(run.runId);
      await dispatchWorkflow(s.dispatchContext(client, engines), {
        plan: previous.plan,
        headSha: run.headSha,
        trigger: 'rerun',
        actor,
        fromFork: run.fromFork,
      });
    }
  };
}
