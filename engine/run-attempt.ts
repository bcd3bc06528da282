/**
 * One attempt of one ready task, by phase: prepared (policy, resolution, source, workspace, cache
 * key: attempt-prepare.ts), started (stored before the runner is called, or finished by a cache
 * hit: attempt-start.ts), run (the breaker, the runner, logs, the lease: here and
 * attempt-lease.ts), and finished (the fenced result, the decision that follows, the receipt:
 * attempt-finish.ts). The result is written only while this worker holds the attempt's lease.
 */
import {
  AttemptOutcome,
  TaskState,
  describeError,
  isMaestroError,
  type AttemptResult,
  type PolicyContext,
  type RunnerHandle,
  type RunnerStartRequest,
  type Runner,
  type RunSource,
  type SourceFetcher,
} from '../core/index.ts';
import type { Span } from '@opentelemetry/api';
import { keepArtifacts, reuseArtifacts } from './attempt-dirs.ts';
import { putKeptArtifacts, receivedWithUrls, shipArtifacts } from './artifact-transfer.ts';
import { keepUploadFor, receiveUpload } from './artifact-upload.ts';
import { completeAttempt } from './attempt-finish.ts';
import { keepLease } from './attempt-lease.ts';
import { prepareAttempt } from './attempt-prepare.ts';
import { finishCached, startAttempt } from './attempt-start.ts';
import { attestAttempt } from './attest.ts';
import { checkpointFor } from './checkpoint.ts';
import { resolveTask, type ResolvedTask } from './dispatch.ts';
import { createRedactor } from '../core/index.ts';
import type { AttemptHost, AttemptInfo } from './attempt-host.ts';
import type { AttemptRecord } from './store/store.ts';
import type { HeldLines } from './run-log.ts';
import { pumpLogs } from './log-pump.ts';
import { startAttemptSpan, traceEnv } from './trace-context.ts';
import { waitHandle, waitSpanAttributes } from './wait/wait-attempt.ts';
import { placeAttempt } from './placement/attempt-placement.ts';
import { ON_DEMAND } from './placement/price-section.ts';
import { isWaitPrimitive } from './wait/wait-spec.ts';
import { taskPricePerHour } from './task-price.ts';
import { TaskQuotaError } from './errors.ts';
import { quotaTurnPending, waitForQuota } from './quota-wait.ts';

export async function runAttempt(exec: AttemptHost, taskId: string): Promise<void> {
  const task = exec.task(taskId);
  if (task.state !== TaskState.ready) return;
  const attempt = task.attempts + 1;
  // How long a durable timer held it (read before the start clears notBefore): a wait's output.
  const waited = task.notBefore === null ? 0 : Math.max(0, task.notBefore - task.updatedAt);
  const readyAt = task.updatedAt;
  const until = task.notBefore;
  if (await quotaTurnPending(exec, taskId, attempt)) return;
  // Chosen first: the budget guard estimates, and the attempt's start stores, the price of the
  // flavor it will run on, not on-demand's.
  const placement = await placeAttempt(exec, exec.planTask(taskId), readyAt);
  const info = await prepareAttempt(exec, taskId, attempt, placement);
  if (!info) return;
  let started: Awaited<ReturnType<typeof startAttempt>>;
  try {
    started = await exec.serial(() => startAttempt(exec, taskId, info));
  } catch (error) {
    if (!(error instanceof TaskQuotaError)) throw error;
    return exec.serial(() => waitForQuota(exec, taskId, attempt, error));
  }
  if (!started) return;
  const { token, hit } = started;
  if (hit) {
    reuseArtifacts(exec, hit.artifactsDir, info);
    // The bucket may have lost them since; a failure is logged, and a dependant that then cannot
    // receive them fails with the store's error. Outside the run's queue: it is a transfer.
    await putKeptArtifacts(exec, taskId, info);
    await exec.serial(() => finishCached(exec, taskId, info, token, hit));
    return;
  }

  const span = attemptSpan(exec, taskId, info);
  const wait = isWaitPrimitive(exec.planTask(taskId));
  if (wait) span.setAttributes(waitSpanAttributes(info.resolved.with, waited, until));
  const ended = wait
    ? await followHandle(exec, taskId, info, token, waitHandle(exec, taskId, info, waited))
    : await execute(exec, taskId, info, token, span);
  await finishRun(exec, taskId, info, token, ended, span);
}

/** The attempt's span, a child of the run's, with the CI/CD conventions' attributes. */
function attemptSpan(exec: AttemptHost, taskId: string, info: AttemptInfo): Span {
  return startAttemptSpan(exec.ctx.tracer, exec.span, {
    runId: exec.runId,
    workflow: exec.run.workflow,
    taskId,
    attempt: info.attempt,
    attemptId: info.attemptId,
    publicUrl: exec.ctx.publicUrl,
  });
}

/** How an attempt ended: the runner's result, and its last log lines, held to be stored with it. */
interface Ended {
  result: AttemptResult;
  tail?: HeldLines;
}

/** Keeps the declared artifacts (from the pod's upload, where the runner made one), ships, finishes. */
async function finishRun(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  token: number,
  ended: Ended,
  span: Span,
): Promise<void> {
  const uploaded = await receiveUpload(exec, taskId, info, ended.result);
  const kept = keepArtifacts(exec, taskId, uploaded.info, uploaded.result);
  const result = await shipArtifacts(exec, taskId, info, kept);
  await completeAttempt(exec, taskId, info, token, result, span, ended.tail);
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
  const taskId = attempt.taskId;
  const info = await recordedInfo(exec, attempt, []);
  void exec.taskLog(taskId, attempt.attempt, 'system', `re-attached to attempt ${attempt.attempt}`);
  const span = attemptSpan(exec, taskId, info);
  await finishRun(exec, taskId, info, token, await followHandle(exec, taskId, info, token, handle), span);
}

/** An attempt's details rebuilt from its record (re-attach, or a receipt signed on resume). */
async function recordedInfo(
  exec: AttemptHost,
  attempt: AttemptRecord,
  decisionIds: string[],
): Promise<AttemptInfo> {
  const taskId = attempt.taskId;
  let resolved: ResolvedTask;
  try {
    resolved = resolveTask(exec.planTask(taskId), await exec.dispatchContext(taskId));
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
    // As stored when it started (attempts from before costs were recorded: the current price).
    cost: {
      pricePerHour: attempt.pricePerHour ?? taskPricePerHour(exec.ctx.prices, exec.planTask(taskId)),
      estimatedCost: attempt.estimatedCost ?? 0,
    },
    decisionIds,
    resolved,
    ...(attempt.placement ? { runnerPlacement: attempt.placement } : {}),
    redact: createRedactor([...resolved.redact, ...Object.values(exec.ctx.secrets)]),
  };
}

/**
 * On resume: receipts are signed after the result is stored (off the critical path), so a crash
 * can leave a finished attempt without one; each such attempt gets its receipt now. Interrupted
 * attempts never had a result to attest.
 */
export async function attestMissingReceipts(exec: AttemptHost): Promise<void> {
  const { attestor, store } = exec.ctx;
  if (!attestor) return;
  const signed = new Set((await store.listReceiptDigests(exec.runId)).map((r) => `${r.taskId}#${r.attempt}`));
  for (const a of await store.listAttempts(exec.runId)) {
    if (a.status !== 'finished' || a.outcome === null || a.outcome === 'interrupted') continue;
    if (signed.has(`${a.taskId}#${a.attempt}`)) continue;
    const info = await recordedInfo(exec, a, a.policyDecisionIds);
    const end = {
      status: a.outcome,
      exitCode: a.exitCode,
      finishedAt: a.finishedAt ?? a.startedAt,
      outputs: a.outputs,
      cacheHit: a.cacheHit,
    };
    void exec.runLog('system', `signing the missing receipt of ${a.taskId} attempt ${a.attempt}`);
    exec.defer(() => attestAttempt(exec, a.taskId, info, end));
  }
}
async function execute(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  token: number,
  span: Span,
): Promise<Ended> {
  const { ctx } = exec;
  const plan = exec.planTask(taskId);
  const fail = (reason: string, message: string, retryable: boolean): Ended => ({
    result: {
      outcome: AttemptOutcome.runnerError,
      exitCode: null,
      retryable,
      reason,
      message,
      outputs: {},
      startedAt: info.startedAt,
      finishedAt: ctx.clock.now(),
    },
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
    env: {
      ...info.resolved.env,
      ...sourceEnv(exec.run.source),
      ...egressEnv(info.egressAllowedHosts),
      ...policyEnv(exec.run.plan.policy),
      ...attemptEnv(exec.runId, taskId, info.attempt, plan.timeoutMs),
      // Last: the attempt span's context, so the task's own spans join the run's trace.
      ...traceEnv(span),
    },
    redact: info.resolved.redact,
    workDir: info.workDir,
    artifactsDir: info.inputsDir,
    dirsMade: true,
    resources: plan.resources,
    namespace: exec.run.namespace,
    outputs: plan.outputs,
    trust: exec.run.trust,
  };
  if (plan.network === 'none') request.network = 'none';
  if (info.placement && info.placement.flavor !== ON_DEMAND) request.flavor = info.placement.flavor;
  if (plan.hostAccess === true) {
    // Fail closed: only a runner the operator granted host access (runners config) gets the step.
    if (runner.grantsHostAccess !== true)
      return fail(
        'host_access_not_granted',
        `task ${taskId} asks for host access (hostAccess: true), which the ${runner.kind} runner was not granted: ` +
          'the operator grants it with `local: { hostAccess: granted }` in the runners config',
        false,
      );
    request.hostAccess = true;
  }
  if (info.resolved.image) request.image = info.resolved.image;
  if (exec.run.source) request.source = exec.run.source;
  if (plan.timeoutMs !== undefined) request.timeoutMs = plan.timeoutMs;
  // A first attempt has no earlier one to resume from: no read of the task's attempts.
  const state =
    info.attempt > 1
      ? checkpointFor(await ctx.store.listAttempts(exec.runId, taskId), info.attempt)
      : undefined;
  if (state !== undefined) {
    request.state = state;
    void exec.taskLog(
      taskId,
      info.attempt,
      'system',
      `starting from the checkpoint of an earlier attempt (${Buffer.byteLength(state)} bytes)`,
    );
  }
  try {
    await addSourceHeader(request, runner, ctx.source);
  } catch (error) {
    return fail('source_auth_failed', info.redact(describeError(error)), true);
  }
  try {
    const received = await receivedWithUrls(exec, plan, info, runner);
    if (received) request.received = received;
    const keep = await keepUploadFor(plan, info, ctx);
    if (keep) request.keep = keep;
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

/**
 * Follows a started (or re-attached) attempt to its end: heartbeats, logs, result. The last log
 * lines come back held (log-pump.ts), for the result's transaction to store them with it.
 */
async function followHandle(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  token: number,
  handle: RunnerHandle,
): Promise<Ended> {
  const { ctx } = exec;
  exec.registerHandle(taskId, handle);
  if (exec.taskCancelledBy(taskId)) void handle.cancel('cancel_requested', ctx.graceMs);
  const heartbeat = keepLease(exec, taskId, info, token, handle);
  try {
    const logs = pumpLogs(exec, taskId, info.attempt, handle, info.redact);
    // Its failure (the store refused the lines) is thrown by the `await logs` below; until then it
    // must not count as unhandled, which would end the process while the task still runs.
    logs.catch(() => undefined);
    const result = await handle.wait();
    return { result, tail: await logs };
  } finally {
    await heartbeat.stop();
    exec.registerHandle(taskId, undefined);
  }
}
/**
 * The credential of the run's source (the App's installation token, fresh) for a runner whose
 * tasks fetch the source themselves; redacted from what the runner reports, as a secret is.
 */
async function addSourceHeader(
  request: RunnerStartRequest,
  runner: Runner,
  fetcher: SourceFetcher | undefined,
): Promise<void> {
  if (!runner.fetchesReceived || !request.source || !fetcher?.authHeader) return;
  const header = await fetcher.authHeader(request.source, { runId: request.runId });
  if (!header) return;
  request.sourceHeader = header;
  request.redact = [...request.redact, header, header.replace(/^Authorization: Basic /, '')];
}

/** What a task learns of its source: the engine's values, which a manifest's `env` cannot override. */
function sourceEnv(source: RunSource | null): Record<string, string> {
  return source ? { MAESTRO_SOURCE_REPO: source.repo, MAESTRO_SOURCE_SHA: source.commit } : {};
}
/**
 * The policy's egress allow-list for the task, outside the recorded inputs (it is the policy's,
 * not the task's, so it changes neither the inputs' digests nor the cache key).
 */
function egressEnv(hosts: string[] | undefined): Record<string, string> {
  return hosts ? { MAESTRO_EGRESS_ALLOWED_HOSTS: JSON.stringify(hosts) } : {};
}
/**
 * Who the attempt is and when it must end (docs/task-protocol.md): the run and task ids (the http
 * task derives its Idempotency-Key from them, the same on every attempt of the task in the run),
 * the attempt number, and, with a timeout, the deadline as RFC 3339, so a task waiting to retry
 * knows it would not make it. The deadline is on the wall clock the task reads (not the engine's
 * injected clock) and is taken before the runner starts the timer it enforces, so it is early,
 * never late. Set after the manifest's env: a task's `env:` cannot say it is another run.
 */
function attemptEnv(
  runId: string,
  taskId: string,
  attempt: number,
  timeoutMs: number | undefined,
): Record<string, string> {
  return {
    MAESTRO_RUN_ID: runId,
    MAESTRO_TASK_ID: taskId,
    MAESTRO_ATTEMPT: String(attempt),
    ...(timeoutMs === undefined ? {} : { MAESTRO_DEADLINE: new Date(Date.now() + timeoutMs).toISOString() }),
  };
}
/**
 * The policy context the attempt was checked under (the plan's `policy`: purpose, authority,
 * license), for a task that carries it on (tasks/sig.export's claim reads `ctx.policy`): the
 * engine's value, set after the manifest's env so a task's `env:` cannot say otherwise, and
 * outside the recorded inputs (it is in the plan, which the receipt already binds). Not named
 * `MAESTRO_POLICY`: that is the CLI's policy bundle choice, which a step calling `maestro`
 * inherits (the dev-bootstrap runbook's first run read this JSON as a bundle path and failed).
 */
function policyEnv(policy: PolicyContext | undefined): Record<string, string> {
  return policy && Object.keys(policy).length > 0 ? { MAESTRO_POLICY_CONTEXT: JSON.stringify(policy) } : {};
}
