/**
 * One attempt of one ready task: prepared (policy, resolution, source, workspace, cache key:
 * attempt-prepare.ts), then the cache, breaker, the runner, logs, the fenced result, the receipt,
 * and the decision that follows. The transition to `running` is
 * stored before the runner is called; the result is written only while this worker holds the
 * attempt's lease.
 */
import { SpanStatusCode, type Span } from '@opentelemetry/api';
import {
  AttemptOutcome,
  Reason,
  TaskState,
  describeError,
  isMaestroError,
  type AttemptResult,
  type RunnerHandle,
  type RunnerStartRequest,
  type RunSource,
} from '../core/index.ts';
import { keepArtifacts, reuseArtifacts } from './attempt-dirs.ts';
import { putKeptArtifacts, receivedWithUrls, shipArtifacts } from './artifact-transfer.ts';
import { prepareAttempt } from './attempt-prepare.ts';
import { attestAttempt } from './attest.ts';
import { recordedInputs, resolveTask, type ResolvedTask } from './dispatch.ts';
import { LeaseLostError } from './errors.ts';
import { createRedactor, redactRecord } from '../core/index.ts';
import type { AttemptHost, AttemptInfo } from './attempt-host.ts';
import type { AttemptRecord } from './store/store.ts';
import { pumpLogs } from './log-pump.ts';

export async function runAttempt(exec: AttemptHost, taskId: string): Promise<void> {
  const { ctx } = exec;
  const by = `engine:${ctx.owner}`;
  const task = exec.task(taskId);
  if (task.state !== TaskState.ready) return;
  const attempt = task.attempts + 1;
  const info = await prepareAttempt(exec, taskId, attempt);
  if (!info) return;
  const { attemptId } = info;

  // Stored before anything runs: the running transition and the attempt with its lease commit
  // together, so the attempt exists from here on, even if we crash.
  const running = exec.prepareTransition(taskId, TaskState.running, Reason.started, by, {
    attempts: attempt,
    firstStartedAt: task.firstStartedAt ?? info.startedAt,
    notBefore: null,
    cacheKey: info.cacheKey,
  });
  const token = ctx.store.startAttempt(
    {
      id: attemptId,
      runId: exec.runId,
      taskId,
      attempt,
      startedAt: info.startedAt,
      inputs: recordedInputs(info.resolved, info.redact),
      workDir: info.workDir,
      artifactsDir: info.artifactsDir,
      cacheKey: info.cacheKey,
      owner: ctx.owner,
      leaseMs: ctx.leaseMs,
    },
    running.write,
  );
  running.commit();

  const hit = info.cacheKey ? ctx.store.getCacheEntry(info.cacheKey, ctx.clock.now()) : undefined;
  if (hit) {
    reuseArtifacts(exec, hit.artifactsDir, info);
    // The bucket may have lost them since; a failure is logged, and a dependant that then cannot
    // receive them fails with the store's error.
    await putKeptArtifacts(exec, taskId, info);
    const now = ctx.clock.now();
    const cached = exec.prepareTransition(
      taskId,
      TaskState.cached,
      Reason.cacheHit,
      by,
      undefined,
      info.cacheKey ?? undefined,
    );
    ctx.store.finishAttempt(
      attemptId,
      token,
      now,
      {
        outcome: 'cached',
        exitCode: null,
        signal: null,
        retryable: false,
        reason: 'cache_hit',
        message: `outputs reused from run ${hit.runId} task ${hit.taskId} attempt ${hit.attempt}`,
        finishedAt: now,
        cacheHit: true,
        policyDecisionIds: info.decisionIds,
        outputs: hit.outputs,
      },
      cached.write,
    );
    cached.commit();
    exec.taskLog(taskId, attempt, 'system', `cache hit ${info.cacheKey}`);
    // Signed off the critical path: the result is already stored, so dependants may start now;
    // the run does not finish before every deferred receipt is stored.
    exec.defer(() =>
      attestAttempt(exec, taskId, info, {
        status: 'cached',
        exitCode: null,
        finishedAt: now,
        outputs: hit.outputs,
        cacheHit: true,
      }),
    );
    return;
  }

  const span = ctx.tracer.startSpan('maestro.attempt', {
    attributes: { 'maestro.run.id': exec.runId, 'maestro.task.id': taskId, 'maestro.attempt': attempt },
  });
  const kept = keepArtifacts(exec, taskId, info, await execute(exec, taskId, info, token));
  const result = await shipArtifacts(exec, taskId, info, kept);
  await completeAttempt(exec, taskId, info, token, result, span);
}

/**
 * Continues an attempt a previous engine started, through a runner that could re-attach to it
 * (a Kubernetes Job survives the engine): the attempt keeps its number and its record.
 */
export async function continueAttempt(
  exec: AttemptHost,
  attempt: AttemptRecord,
  handle: RunnerHandle,
  token: number,
): Promise<void> {
  const { ctx } = exec;
  const taskId = attempt.taskId;
  const info = recordedInfo(exec, attempt, []);
  exec.taskLog(taskId, attempt.attempt, 'system', `re-attached to attempt ${attempt.attempt}`);
  const span = ctx.tracer.startSpan('maestro.attempt', {
    attributes: {
      'maestro.run.id': exec.runId,
      'maestro.task.id': taskId,
      'maestro.attempt': attempt.attempt,
    },
  });
  const kept = keepArtifacts(exec, taskId, info, await followHandle(exec, taskId, info, token, handle));
  const result = await shipArtifacts(exec, taskId, info, kept);
  await completeAttempt(exec, taskId, info, token, result, span);
}

/** An attempt's details rebuilt from its record (re-attach, or a receipt signed on resume). */
function recordedInfo(exec: AttemptHost, attempt: AttemptRecord, decisionIds: string[]): AttemptInfo {
  const taskId = attempt.taskId;
  let resolved: ResolvedTask;
  try {
    resolved = resolveTask(exec.planTask(taskId), exec.dispatchContext());
  } catch {
    // Resolution may differ now (a secret removed); the recorded command still names the attempt.
    const command = attempt.inputs.command as ResolvedTask['command'];
    resolved = { command, env: {}, with: {}, redact: [], secrets: {}, target: exec.planTask(taskId).runner };
  }
  return {
    attempt: attempt.attempt,
    attemptId: attempt.id,
    workDir: attempt.workDir,
    inputsDir: `${attempt.workDir}.in`,
    artifactsDir: attempt.artifactsDir,
    inputArtifacts: [],
    startedAt: attempt.startedAt,
    cacheKey: attempt.cacheKey,
    decisionIds,
    resolved,
    redact: createRedactor([...resolved.redact, ...Object.values(exec.ctx.secrets)]),
  };
}

/**
 * On resume: receipts are signed after the result is stored (off the critical path), so a crash
 * can leave a finished attempt without one; each such attempt gets its receipt now. Interrupted
 * attempts never had a result to attest.
 */
export function attestMissingReceipts(exec: AttemptHost): void {
  const { attestor, store } = exec.ctx;
  if (!attestor) return;
  const signed = new Set(store.listReceipts(exec.runId).map((r) => `${r.taskId}#${r.attempt}`));
  for (const a of store.listAttempts(exec.runId)) {
    if (a.status !== 'finished' || a.outcome === null || a.outcome === 'interrupted') continue;
    if (signed.has(`${a.taskId}#${a.attempt}`)) continue;
    const info = recordedInfo(exec, a, a.policyDecisionIds);
    const end = {
      status: a.outcome,
      exitCode: a.exitCode,
      finishedAt: a.finishedAt ?? a.startedAt,
      outputs: a.outputs,
      cacheHit: a.cacheHit,
    };
    exec.runLog('system', `signing the missing receipt of ${a.taskId} attempt ${a.attempt}`);
    exec.defer(() => attestAttempt(exec, a.taskId, info, end));
  }
}

/** Stores the result fenced by the lease, with the transition that follows; then the receipt. */
async function completeAttempt(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  token: number,
  result: AttemptResult,
  span: Span,
): Promise<void> {
  const { ctx } = exec;
  const { redact, attemptId, attempt, resolved } = info;
  const outputs = redactRecord(result.outputs, redact);
  const finishedAt = ctx.clock.now();
  const next = nextTransition(exec, taskId, info, result);
  // Dependants this result makes ready commit with it: one transaction for the whole event, and
  // nothing acts on them (they are queued by commit()) before it is stored.
  const ready = exec.prepareReadyDependants(taskId, next.write.to);
  try {
    ctx.store.finishAttempt(
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
      },
      next.write,
      ready.map((r) => ({ taskId: r.taskId, write: r.write })),
    );
  } catch (error) {
    span.end();
    if (error instanceof LeaseLostError) {
      // Another worker owns this attempt now; our result must not count.
      exec.taskLog(taskId, attempt, 'system', 'result discarded: this worker lost the attempt lease');
      return;
    }
    throw error;
  }
  next.commit();
  for (const r of ready) r.commit();
  exec.afterRetryScheduled(taskId);
  if (result.outcome === AttemptOutcome.succeeded && info.cacheKey)
    storeCacheEntry(exec, taskId, info, outputs);
  span.setAttribute('maestro.attempt.outcome', result.outcome);
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
    }),
  );
}

/** Infrastructure-class failures count for every target; task failures only for image/catalog targets. */
function isBreakerFailure(exec: AttemptHost, taskId: string, result: AttemptResult): boolean {
  if (result.outcome === AttemptOutcome.runnerError) return true;
  const action = exec.planTask(taskId).action.type;
  const shared = action === 'catalog' || action === 'container';
  return shared && (result.outcome === AttemptOutcome.failed || result.outcome === AttemptOutcome.timedOut);
}

async function execute(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  token: number,
): Promise<AttemptResult> {
  const { ctx } = exec;
  const plan = exec.planTask(taskId);
  const fail = (reason: string, message: string, retryable: boolean): AttemptResult => ({
    outcome: AttemptOutcome.runnerError,
    exitCode: null,
    retryable,
    reason,
    message,
    outputs: {},
    startedAt: info.startedAt,
    finishedAt: ctx.clock.now(),
  });
  if (ctx.breaker.isOpen(info.resolved.target))
    return fail(
      'circuit_open',
      `circuit open for ${info.resolved.target}: failing fast during the cool-down`,
      true,
    );
  const runner = ctx.runners.get(plan.runner);
  if (!runner)
    return fail(
      'unknown_runner',
      `no runner named ${plan.runner} (have: ${ctx.runners.kinds().join(', ')})`,
      false,
    );
  const request: RunnerStartRequest = {
    runId: exec.runId,
    taskId,
    attempt: info.attempt,
    attemptId: info.attemptId,
    command: info.resolved.command,
    env: { ...info.resolved.env, ...sourceEnv(exec.run.source), ...egressEnv(info.egressAllowedHosts) },
    redact: info.resolved.redact,
    workDir: info.workDir,
    artifactsDir: info.inputsDir,
    resources: plan.resources,
    namespace: exec.run.namespace,
    outputs: plan.outputs,
    trust: exec.run.trust,
  };
  if (plan.network === 'none') request.network = 'none';
  if (info.resolved.image) request.image = info.resolved.image;
  if (exec.run.source) request.source = exec.run.source;
  if (plan.timeoutMs !== undefined) request.timeoutMs = plan.timeoutMs;
  try {
    const received = await receivedWithUrls(exec, plan, info, runner);
    if (received) request.received = received;
  } catch (error) {
    return fail('artifact_store_error', describeError(error), isMaestroError(error) && error.retryable);
  }
  let handle: RunnerHandle;
  try {
    handle = await runner.start(request);
  } catch (error) {
    const retryable = isMaestroError(error) ? error.retryable : true;
    return fail(
      isMaestroError(error) ? error.code : 'start_failed',
      info.redact(describeError(error)),
      retryable,
    );
  }
  return followHandle(exec, taskId, info, token, handle);
}

/** Follows a started (or re-attached) attempt to its end: heartbeats, logs, result. */
async function followHandle(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  token: number,
  handle: RunnerHandle,
): Promise<AttemptResult> {
  const { ctx } = exec;
  exec.registerHandle(taskId, handle);
  if (exec.taskCancelledBy(taskId)) void handle.cancel('cancel_requested', ctx.graceMs);
  const heartbeat = setInterval(
    () => {
      try {
        ctx.store.heartbeat(info.attemptId, token, ctx.clock.now(), ctx.leaseMs);
      } catch {
        void handle.cancel('lease_lost', ctx.graceMs);
      }
    },
    Math.max(50, Math.floor(ctx.leaseMs / 3)),
  );
  try {
    const logs = pumpLogs(exec, taskId, info.attempt, handle, info.redact);
    const result = await handle.wait();
    await logs;
    return result;
  } finally {
    clearInterval(heartbeat);
    exec.registerHandle(taskId, undefined);
  }
}

/** What a task learns of its source: the engine's values, which a manifest's `env` cannot override. */
function sourceEnv(source: RunSource | null): Record<string, string> {
  return source ? { MAESTRO_SOURCE_REPO: source.repo, MAESTRO_SOURCE_SHA: source.commit } : {};
}

function storeCacheEntry(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  outputs: Record<string, string>,
): void {
  const { ctx } = exec;
  const ttl = exec.planTask(taskId).cache.ttlMs;
  ctx.store.putCacheEntry({
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

/**
 * The policy's egress allow-list for the task, outside the recorded inputs (it is the policy's,
 * not the task's, so it changes neither the inputs' digests nor the cache key).
 */
function egressEnv(hosts: string[] | undefined): Record<string, string> {
  return hosts ? { MAESTRO_EGRESS_ALLOWED_HOSTS: JSON.stringify(hosts) } : {};
}
