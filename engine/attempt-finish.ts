/**
 * The end of an attempt: its result written fenced by the lease, with the task's next transition
 * and the dependants it makes ready, in one transaction inside the run's queue; then the cache
 * entry, the breaker, and the receipt (signed off the critical path).
 */
import { taskRunResult } from './trace-context.ts';
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { AttemptOutcome, Reason, TaskState, redactRecord, type AttemptResult } from '../core/index.ts';
import type { AttemptHost, AttemptInfo } from './attempt-host.ts';
import { attestAttempt } from './attest.ts';
import type { HeldLines } from './run-log.ts';
import { storedState } from './checkpoint.ts';
import { attemptCost } from './cost.ts';
import { LeaseLostError } from './errors.ts';
import { SPOT_LOST, reportPlacement, spotLost } from './placement/attempt-placement.ts';

/**
 * Stores the result fenced by the lease, with the transition that follows and the attempt's last
 * log lines (`tail`, held in their place in the run's order); then the receipt.
 */
export async function completeAttempt(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  token: number,
  result: AttemptResult,
  span: Span,
  tail?: HeldLines,
): Promise<void> {
  const { ctx } = exec;
  const { redact, attemptId, attempt, resolved } = info;
  const outputs = redactRecord(result.outputs, redact);
  const finishedAt = ctx.clock.now();
  // A spot attempt whose capacity went away is not the task's failure (ADR-051): stored as
  // spot_lost (the runner's reason kept in the message) and re-attempted on on-demand.
  const lost = spotLost(info.placement, result);
  if (lost) result = lostResult(result);
  const stored = await exec.serial(async () => {
    const next = lost ? spotReattempt(exec, taskId) : nextTransition(exec, taskId, info, result);
    // Dependants this result makes ready commit with it: one transaction for the whole event, and
    // nothing acts on them (they are queued by commit()) before it is stored.
    const ready = exec.prepareReadyDependants(taskId, next.write.to);
    // After every line published before them is stored: the run's lines keep their order.
    const lines = (await tail?.take()) ?? [];
    try {
      await ctx.store.finishAttempt(
        attemptId,
        token,
        finishedAt,
        {
          outcome: result.outcome,
          exitCode: result.exitCode,
          signal: result.signal ?? null,
          retryable: result.retryable,
          reason: result.reason ?? null,
          message: result.message === undefined ? null : redact(result.message),
          finishedAt,
          cacheHit: false,
          policyDecisionIds: info.decisionIds,
          outputs,
          state: storedState(result.state, redact),
        },
        next.write,
        ready.map((r) => ({ taskId: r.taskId, write: r.write })),
        lines,
      );
      void tail?.settle(true);
    } catch (error) {
      // Refused with the result: the lines are stored alone, before anything gives the run up.
      await tail?.settle(false);
      span.end();
      if (error instanceof LeaseLostError) {
        // Another worker owns this attempt now, or its lease ran out unrenewed (a slow store): our
        // result must not count, and the task would stay running here forever. The run is given
        // up, so whoever claims it next closes the attempt as interrupted and re-attempts it.
        void exec.taskLog(taskId, attempt, 'system', 'result discarded: this worker lost the attempt lease');
        exec.abandon(`the attempt lease of ${taskId} attempt ${attempt} was lost`);
        return false;
      }
      throw error;
    }
    next.commit();
    if (result.outcome === AttemptOutcome.succeeded) exec.storedOutputs(taskId, outputs);
    exec.spend.finished(attemptId, taskId, info.startedAt, finishedAt, info.cost.pricePerHour);
    for (const r of ready) r.commit();
    exec.armTimer(taskId);
    return true;
  });
  if (!stored) return;
  // What the receipt will say it cost, for the cost per namespace (docs/observability.md).
  ctx.telemetry?.emit({
    kind: 'cost',
    namespace: exec.run.namespace,
    currency: ctx.prices.currency,
    amount: attemptCost(info.cost.pricePerHour, info.startedAt, finishedAt),
  });
  if (info.placement)
    reportPlacement(
      exec,
      taskId,
      attempt,
      info.placement,
      { ...result, startedAt: info.startedAt, finishedAt },
      lost,
    );
  if (result.outcome === AttemptOutcome.succeeded && info.cacheKey)
    await storeCacheEntry(exec, taskId, info, outputs);
  span.setAttribute('maestro.attempt.outcome', result.outcome);
  span.setAttribute('cicd.pipeline.task.run.result', taskRunResult(result.outcome));
  span.setStatus({
    code: result.outcome === AttemptOutcome.succeeded ? SpanStatusCode.OK : SpanStatusCode.ERROR,
  });
  span.end();
  if (result.reason !== 'circuit_open')
    ctx.breaker.record(resolved.target, isBreakerFailure(exec, taskId, result));
  // Signed off the critical path: the result is already stored, so dependants may start now;
  // the run does not finish before every deferred receipt is stored.
  exec.defer(() =>
    attestAttempt(exec, taskId, info, {
      status: result.outcome,
      exitCode: result.exitCode,
      finishedAt,
      outputs,
      cacheHit: false,
      ...(result.isolation ? { isolation: result.isolation } : {}),
      ...(result.image ? { image: result.image } : {}),
    }),
  );
  if (result.outcome === AttemptOutcome.succeeded && result.builtImages?.length)
    exec.defer(() => recordBuiltImages(exec, taskId, attempt, result.builtImages!));
}

/**
 * Each image the task says it built gets its SBOM made, signed onto its digest and stored
 * (runtime's BuiltImageRecorder). Off the critical path, like the receipt; a failure is written
 * to the task's log and does not change the attempt's outcome (the image was built and pushed;
 * its SBOM is what is missing, and the log says why).
 */
async function recordBuiltImages(
  exec: AttemptHost,
  taskId: string,
  attempt: number,
  images: string[],
): Promise<void> {
  const recorder = exec.ctx.builtImages;
  const note = (text: string) => exec.taskLog(taskId, attempt, 'system', text);
  // The recorder pulls with the host's registry credentials and signs with the receipts key: a
  // fork's code (an untrusted run) must not make it sign an SBOM of any image it names.
  if (exec.run.trust !== 'trusted') {
    await note(`built images of an untrusted run are not recorded: ${images.join(', ')}`);
    return;
  }
  if (!recorder) {
    await note(`built images not recorded (no SBOM store configured): ${images.join(', ')}`);
    return;
  }
  for (const image of images) {
    try {
      const stored = await recorder.record({
        image,
        namespace: exec.run.namespace,
        runId: exec.runId,
        taskId,
        attempt,
      });
      await note(`sbom stored for ${image}: ${stored.components} components (${stored.sbomDigest})`);
    } catch (error) {
      exec.ctx.logger.warn({ err: error, image, taskId }, 'built image SBOM failed');
      await note(`sbom not stored for ${image}: ${(error as Error).message}`);
    }
  }
}

/** Infrastructure-class failures count for every target; task failures only for image/catalog targets. */
function isBreakerFailure(exec: AttemptHost, taskId: string, result: AttemptResult): boolean {
  if (result.outcome === AttemptOutcome.runnerError) return true;
  const action = exec.planTask(taskId).action.type;
  const shared = action === 'catalog' || action === 'container';
  return shared && (result.outcome === AttemptOutcome.failed || result.outcome === AttemptOutcome.timedOut);
}

function storeCacheEntry(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  outputs: Record<string, string>,
): Promise<void> {
  const { ctx } = exec;
  const ttl = exec.planTask(taskId).cache.ttlMs;
  return ctx.store.putCacheEntry({
    key: info.cacheKey!,
    runId: exec.runId,
    taskId,
    attempt: info.attempt,
    outputs,
    artifactsDir: info.artifactsDir,
    createdAt: ctx.clock.now(),
    expiresAt: ttl === undefined ? null : ctx.clock.now() + ttl,
  });
}

function lostResult(result: AttemptResult): AttemptResult {
  const why = [result.reason, result.message].filter((x) => x).join(': ');
  return {
    ...result,
    retryable: true,
    reason: SPOT_LOST,
    message: `spot capacity lost${why ? ` (${why})` : ''}`,
  };
}

/** Like an interrupted attempt (recover-run.ts): queued again, outside the retry limit. */
function spotReattempt(exec: AttemptHost, taskId: string) {
  const t = exec.task(taskId);
  return exec.prepareTransition(
    taskId,
    TaskState.queued,
    Reason.reattemptScheduled,
    `engine:${exec.ctx.owner}`,
    { retryBase: t.retryBase + 1, notBefore: null },
    `attempt ${t.attempts} lost its spot capacity: re-attempted on on-demand`,
  );
}

/** The task transition that follows an attempt's result, stored with the result. */
function nextTransition(exec: AttemptHost, taskId: string, info: AttemptInfo, result: AttemptResult) {
  const by = `engine:${exec.ctx.owner}`;
  const detail = result.message ? info.redact(result.message) : undefined;
  if (result.outcome === AttemptOutcome.succeeded)
    return exec.prepareTransition(taskId, TaskState.succeeded, Reason.exitedZero, by);
  const cancelledBy = exec.taskCancelledBy(taskId);
  if (cancelledBy !== undefined) {
    const timedOut = exec.stopping?.reason === 'run_timeout';
    return exec.prepareTransition(
      taskId,
      timedOut ? TaskState.timedOut : TaskState.cancelled,
      timedOut ? Reason.runTimeout : Reason.cancelRequested,
      cancelledBy,
      undefined,
      detail,
    );
  }
  const final = finalFor(result);
  const next = exec.decideAfterAttempt(
    taskId,
    result.retryable,
    detail === undefined ? final : { ...final, detail },
  );
  return exec.prepareTransition(taskId, next.state, next.reason, by, next.patch, next.detail);
}

function finalFor(result: AttemptResult): { state: TaskState; reason: Reason } {
  switch (result.outcome) {
    case AttemptOutcome.timedOut:
      return { state: TaskState.timedOut, reason: Reason.timeout };
    case AttemptOutcome.cancelled:
      return { state: TaskState.cancelled, reason: Reason.cancelRequested };
    case AttemptOutcome.runnerError:
      return {
        state: TaskState.failed,
        reason: result.reason === 'circuit_open' ? Reason.circuitOpen : Reason.runnerError,
      };
    default:
      return {
        state: TaskState.failed,
        reason: result.exitCode === null && result.signal ? Reason.killedBySignal : Reason.exitedNonZero,
      };
  }
}
