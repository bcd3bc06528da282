import type { Plan } from '../../core/index.ts';
import type { Engine } from '../../engine/index.ts';
import type { AppStore } from '../app-store.ts';
import { checkApproval } from '../gate/approval-attestation.ts';
import { requirementOf, type SensitivityCheck } from '../gate/approval-gate.ts';
import { writeCheckRun } from '../checks/check-runs.ts';
import { workflowKey } from '../source/compile-snapshot.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { RUN_CHECK_PREFIX, runExternalId } from '../checks/render-run.ts';
import { RunReporter } from './run-reporter.ts';
import type { Clock } from '../../core/index.ts';

/**
 * Two engines: `trusted` for code that is on the repository (pushes, manual runs on its own
 * branches), with the operator's secrets and runners; `untrusted` for code from forks, built
 * without secrets and with only the unprivileged runner. Which one runs is decided here, from the
 * event, never from anything the manifest says.
 */
export interface Engines {
  trusted: Engine;
  untrusted: Engine;
}

export interface DispatchContext {
  client: GitHubClient;
  store: AppStore;
  engines: Engines;
  clock: Clock;
  publicKeyPem: string;
  sensitive: SensitivityCheck;
  runUpdateIntervalMs: number;
  onError: (error: unknown) => void;
  /** Reporters of live runs, so tests and shutdown can wait for their last write. */
  track: (reporter: RunReporter) => void;
}

export interface DispatchRequest {
  plan: Plan;
  headSha: string;
  trigger: string;
  actor: string;
  fromFork: boolean;
}

export type DispatchOutcome = { runId: string } | { refused: string };

/**
 * Dispatches one workflow. A gated workflow runs only with a stored approval attestation that
 * verifies under the app's key for this repository, workflow and exact plan digest; otherwise a
 * completed `action_required` check run says why, and nothing runs.
 */
export async function dispatchWorkflow(
  ctx: DispatchContext,
  request: DispatchRequest,
): Promise<DispatchOutcome> {
  const { plan } = request;
  const workflow = workflowKey(plan);
  let approvalDigest: string | undefined;
  if (requirementOf(plan, ctx.sensitive)) {
    const attestation = ctx.store.findAttestation(ctx.client.fullName, workflow, plan.digest);
    const problem = attestation
      ? checkApproval(attestation.bundle, ctx.publicKeyPem, {
          repository: ctx.client.fullName,
          workflow,
          planDigest: plan.digest,
        })
      : `no approval attestation exists for plan ${plan.digest}`;
    if (problem) {
      await writeCheckRun(ctx.client, ctx.store, {
        name: `${RUN_CHECK_PREFIX} ${workflow}`,
        headSha: request.headSha,
        externalId: `refused:${workflow}:${plan.digest}:${request.headSha}`,
        status: 'completed',
        conclusion: 'action_required',
        title: `${workflow} was not run: approval required`,
        summary: `${problem}.\n\nThe workflow declares an approval gate; approve the pull request that changes this plan (digest \`${plan.digest}\`).`,
      });
      return { refused: problem };
    }
    approvalDigest = attestation!.digest;
  }
  const engine = request.fromFork ? ctx.engines.untrusted : ctx.engines.trusted;
  const runId = engine.submit(plan, {
    trigger: request.trigger,
    actor: request.actor,
    ...(approvalDigest ? { approvalDigest } : {}),
  });
  ctx.store.putRun({
    runId,
    repo: ctx.client.fullName,
    installationId: ctx.client.installationId,
    workflow,
    headSha: request.headSha,
    checkRunExternalId: runExternalId(runId),
    fromFork: request.fromFork,
  });
  startRun(ctx, engine, runId, request.headSha, (id) => engine.execute(id));
  return { runId };
}

/** Reports and executes a run (new, retried, or re-run) without blocking the delivery. */
export function startRun(
  ctx: Pick<DispatchContext, 'client' | 'store' | 'clock' | 'runUpdateIntervalMs' | 'onError' | 'track'>,
  engine: Engine,
  runId: string,
  headSha: string,
  execute: (runId: string) => Promise<unknown>,
): void {
  const reporter = new RunReporter({
    engine,
    client: ctx.client,
    store: ctx.store,
    clock: ctx.clock,
    runId,
    headSha,
    intervalMs: ctx.runUpdateIntervalMs,
    onError: ctx.onError,
  });
  ctx.track(reporter);
  reporter.start();
  execute(runId).catch(ctx.onError);
}
