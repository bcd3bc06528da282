import { randomUUID } from 'node:crypto';
import { describeError, isMaestroError, type Clock, type Plan, type RunSource } from '../../core/index.ts';
import type { Engine } from '../../engine/index.ts';
import type { AppStore } from '../app-store.ts';
import { writeCheckRun } from '../checks/check-runs.ts';
import { RUN_CHECK_PREFIX, runExternalId } from '../checks/render-run.ts';
import { checkApproval } from '../../provenance/index.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { workflowKey } from '../source/compile-snapshot.ts';
import { RunReporter } from './run-reporter.ts';
import { deliveryStep, deliveryTraceParent } from '../delivery-trace.ts';

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
  runUpdateIntervalMs: number;
  onError: (error: unknown) => void;
  /** Reporters of live runs, so tests and shutdown can wait for their last write. */
  track: (reporter: RunReporter) => void;
  /** Called after each durable step of a dispatch (crash tests kill the process there). */
  onDispatchStep?: (step: DispatchStep) => void;
  /** The App's id: its own pull-request comments are the only ones it updates. */
  appId?: number;
}

/** `recorded`: the dispatch and run records are stored; `submitted`: the engine stored the run. */
export type DispatchStep = 'recorded' | 'submitted';

/** Whether a run needs an approval attestation, as the gate decided from the base's rules. */
export type ApprovalNeed =
  { gated: false } | { gated: true; pullRequest?: { number: number; baseSha: string } };

export interface DispatchRequest {
  plan: Plan;
  headSha: string;
  trigger: string;
  actor: string;
  fromFork: boolean;
  /** One run per (key, workflow): a delivery id, or `pull_request:<n>:<head>` for a PR head. */
  key: string;
  approval: ApprovalNeed;
  /** The run id to use when this (key, workflow) has no dispatch yet (a schedule's claim chose it). */
  runId?: string;
  /**
   * The repository at `headSha` the tasks run on (`gitSource`): the payload's clone URL, for a
   * pull request its head repository's (a fork's own); a re-run keeps its run's recorded source.
   * Undefined only when the event named no clone URL: the tasks start in an empty workspace.
   */
  source: RunSource | undefined;
  /** The pull request a pull-request event ran it for (tasks/notify's pr-comment posts there). */
  pullRequest?: number;
}

/** A run's source from an event: the clone URL at the exact commit, and the ref it came from. */
export function gitSource(cloneUrl: string | undefined, commit: string, ref?: string): RunSource | undefined {
  if (!cloneUrl) return undefined;
  return { kind: 'git', repo: cloneUrl, commit, ...(ref ? { ref } : {}) };
}

export type DispatchOutcome = { runId: string } | { refused: string };

/**
 * A task naming a runner the operator has not configured, or one its runner cannot place (a
 * namespace pinned to one Kubernetes cluster asking for another's resource class), is the
 * manifest's error: a failed check run says which task and why, before anything is recorded or run.
 */
async function refuseUnconfiguredRunner(
  ctx: DispatchContext,
  request: DispatchRequest,
  engine: Engine,
  workflow: string,
): Promise<{ refused: string } | undefined> {
  try {
    engine.checkRunners(request.plan);
    return undefined;
  } catch (error) {
    const refused = ['runner_not_configured', 'runner_placement_refused'];
    if (!isMaestroError(error) || !refused.includes(error.code)) throw error;
    await writeCheckRun(ctx.client, ctx.store, {
      name: `${RUN_CHECK_PREFIX} ${workflow}`,
      headSha: request.headSha,
      externalId: `refused:${workflow}:${request.plan.digest}:${request.headSha}`,
      status: 'completed',
      conclusion: 'failure',
      title:
        error.code === 'runner_not_configured'
          ? `${workflow} was not run: runner not configured`
          : `${workflow} was not run: a task cannot be placed`,
      summary: describeError(error),
    });
    return { refused: error.message };
  }
}

/**
 * Dispatches one workflow, at most once per (key, workflow). A gated workflow runs only with a
 * live approval attestation for this exact head (and pull request) that verifies under the app's
 * key and binds repository, workflow, plan digest, head, pull request and base and has not
 * expired; otherwise a completed `action_required` check run says why, and nothing runs.
 *
 * Crash safety: the dispatch and the run's record are stored, with the run id chosen here, in
 * one transaction before the engine creates the run. Reprocessing the same delivery finds the
 * dispatch: the run is resumed (on start, by resume-runs.ts) or, when the crash came before the
 * engine stored it, submitted under that same id. So a delivery yields exactly one run.
 */
export function dispatchWorkflow(ctx: DispatchContext, request: DispatchRequest): Promise<DispatchOutcome> {
  // The dispatch (its approval gate, the submit) is a step of the delivery's trace; the run
  // continues it (traceParent), wherever it executes.
  return deliveryStep(
    'maestro.dispatch',
    {
      'cicd.pipeline.name': request.plan.workflow.name,
      'vcs.repository.name': ctx.client.fullName,
      'vcs.ref.head.revision': request.headSha,
      'maestro.approval.gated': request.approval.gated,
    },
    async (span) => {
      const outcome = await dispatchTraced(ctx, request);
      if ('runId' in outcome) span?.setAttribute('cicd.pipeline.run.id', outcome.runId);
      else span?.setAttribute('maestro.dispatch.refused', outcome.refused);
      return outcome;
    },
  );
}

async function dispatchTraced(ctx: DispatchContext, request: DispatchRequest): Promise<DispatchOutcome> {
  const { plan } = request;
  const workflow = workflowKey(plan);
  const engine = request.fromFork ? ctx.engines.untrusted : ctx.engines.trusted;
  const existing = await ctx.store.getDispatch(request.key, workflow);
  if (existing && (await engineHas(engine, existing.runId))) return { runId: existing.runId };
  // A run id chosen before this call (a schedule slot's claim) that the engine already holds was
  // dispatched by whoever held the claim before: on a shared database, another replica, whose
  // dispatch record is in its own data dir. Submitting it again would be refused (the id is taken).
  if (!existing && request.runId && (await engineHas(engine, request.runId))) return { runId: request.runId };
  const approval = request.approval.gated ? await approvalFor(ctx, request, workflow) : { digest: undefined };
  if ('problem' in approval) {
    await writeCheckRun(ctx.client, ctx.store, {
      name: `${RUN_CHECK_PREFIX} ${workflow}`,
      headSha: request.headSha,
      externalId: `refused:${workflow}:${plan.digest}:${request.headSha}`,
      status: 'completed',
      conclusion: 'action_required',
      title: `${workflow} was not run: approval required`,
      summary: `${approval.problem}.\n\nThe workflow is gated (its base branch's rules, its own approvals, or the default for a new workflow with secrets); approve the pull request that changes this plan (digest \`${plan.digest}\`) at this head.`,
    });
    return { refused: approval.problem };
  }
  const unrunnable = await refuseUnconfiguredRunner(ctx, request, engine, workflow);
  if (unrunnable) return unrunnable;
  let runId = existing?.runId ?? request.runId ?? `r-${randomUUID()}`;
  if (!existing) {
    const stored = await ctx.store.putDispatch(
      { key: request.key, workflow, runId, createdAt: ctx.clock.now() },
      {
        runId,
        repo: ctx.client.fullName,
        installationId: ctx.client.installationId,
        workflow,
        headSha: request.headSha,
        checkRunExternalId: runExternalId(runId),
        fromFork: request.fromFork,
        gated: request.approval.gated,
        ...(request.approval.gated && request.approval.pullRequest
          ? { pullRequest: request.approval.pullRequest.number }
          : request.pullRequest !== undefined
            ? { pullRequest: request.pullRequest }
            : {}),
      },
    );
    // Another replica dispatched this (key, workflow) between our read and our write: the run is
    // its to submit and report; a second submission would be a second deployment.
    if (stored.runId !== runId) return { runId: stored.runId };
    runId = stored.runId;
  }
  ctx.onDispatchStep?.('recorded');
  await engine.submit(plan, {
    runId,
    // Ours to execute (startRun below): another replica's worker must not claim it first, since
    // only this process holds the repository's token allow-list and reports the check run.
    reserve: true,
    trigger: request.trigger,
    actor: request.actor,
    // A fork's code is untrusted: no network on any runner (core's resolveNetwork), and its
    // cache entries are never shared with the repository's own (cache poisoning).
    trust: request.fromFork ? 'untrusted' : 'trusted',
    ...(approval.digest ? { approvalDigest: approval.digest } : {}),
    ...(request.source ? { source: request.source } : {}),
    ...withTraceParent(deliveryTraceParent()),
  });
  ctx.onDispatchStep?.('submitted');
  await startRun(ctx, engine, runId, request.headSha, (id) => engine.execute(id));
  return { runId };
}

const withTraceParent = (traceParent: string | undefined) => (traceParent ? { traceParent } : {});

/**
 * The live attestation a gated run may use, or why there is none. The stored row finds the
 * candidate; the signed predicate decides (every bound field, and the expiry).
 */
export async function approvalFor(
  ctx: Pick<DispatchContext, 'client' | 'store' | 'clock' | 'publicKeyPem'>,
  request: Pick<DispatchRequest, 'plan' | 'headSha' | 'approval'>,
  workflow: string,
): Promise<{ digest: string } | { problem: string }> {
  const pull = request.approval.gated ? request.approval.pullRequest : undefined;
  const found = await ctx.store.findAttestation({
    repo: ctx.client.fullName,
    workflow,
    headSha: request.headSha,
    ...(pull ? { pullRequest: pull.number } : {}),
  });
  if (!found)
    return {
      problem: `no approval attestation exists for ${workflow} at ${request.headSha}${pull ? ` in pull request #${pull.number}` : ''}`,
    };
  if (found.revokedAt !== undefined)
    return {
      problem: `the approval attestation was revoked: ${found.revokedReason ?? 'no reason recorded'}`,
    };
  const problem = checkApproval(found.bundle, ctx.publicKeyPem, {
    repository: ctx.client.fullName,
    workflow,
    planDigest: request.plan.digest,
    headSha: request.headSha,
    // A push (the merge commit) has no pull request of its own: the attestation's, as recorded.
    pullRequest: pull?.number ?? found.pullRequest,
    baseSha: pull?.baseSha ?? found.baseSha,
    now: ctx.clock.now(),
  });
  return problem ? { problem } : { digest: found.digest };
}

async function engineHas(engine: Engine, runId: string): Promise<boolean> {
  try {
    await engine.store.getRun(runId);
    return true;
  } catch {
    return false;
  }
}

/** Reports and executes a run (new, retried, or re-run) without blocking the delivery. */
export async function startRun(
  ctx: Pick<
    DispatchContext,
    'client' | 'store' | 'clock' | 'runUpdateIntervalMs' | 'onError' | 'track' | 'appId'
  >,
  engine: Engine,
  runId: string,
  headSha: string,
  execute: (runId: string) => Promise<unknown>,
): Promise<void> {
  await reportRun(ctx, engine, runId, headSha);
  execute(runId).catch(ctx.onError);
}

/**
 * Mirrors a run into its check run until it ends (or parks on an approval task), without
 * executing it: startRun's first half, and what a replica does for an App run its own worker
 * claimed (dispatch/adopt-runs.ts).
 */
export async function reportRun(
  ctx: Pick<
    DispatchContext,
    'client' | 'store' | 'clock' | 'runUpdateIntervalMs' | 'onError' | 'track' | 'appId'
  >,
  engine: Engine,
  runId: string,
  headSha: string,
): Promise<void> {
  // The run's recorded source (new, retried, re-run or resumed) and its locked catalogs are
  // fetched with the token of the installation that dispatched it, derived from the stored run
  // by whichever replica executes it (github/source-access.ts): nothing to set up here.
  // A fork's code never speaks as the App: its runs' pr-comment requests are not posted.
  const stored = await ctx.store.getRun(runId);
  const pullRequest = stored && !stored.fromFork ? stored.pullRequest : undefined;
  const reporter = new RunReporter({
    engine,
    client: ctx.client,
    store: ctx.store,
    clock: ctx.clock,
    runId,
    headSha,
    intervalMs: ctx.runUpdateIntervalMs,
    onError: ctx.onError,
    ...(pullRequest !== undefined ? { pullRequest } : {}),
    ...(ctx.appId !== undefined ? { appId: ctx.appId } : {}),
  });
  ctx.track(reporter);
  reporter.start();
}
