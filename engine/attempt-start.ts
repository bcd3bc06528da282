/**
 * The start of an attempt, inside the run's queue: the running transition and the attempt with
 * its lease commit together before anything runs; a cache hit then finishes it at once.
 */
import { Reason, TaskState, type RunnerPlacement } from '../core/index.ts';
import type { AttemptHost, AttemptInfo } from './attempt-host.ts';
import { attestAttempt } from './attest.ts';
import { recordedInputs } from './dispatch.ts';
import type { CacheEntry } from './store/store.ts';
import { holdsNoCompute } from './task-price.ts';

/**
 * Stored before anything runs: the running transition and the attempt with its lease commit
 * together, so the attempt exists from here on, even if we crash. Inside the run's queue; the
 * token and the cache entry it may reuse, or undefined when the task was cancelled while it was
 * being prepared.
 */
export async function startAttempt(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
): Promise<{ token: number; hit: CacheEntry | undefined } | undefined> {
  const { ctx } = exec;
  const by = `engine:${ctx.owner}`;
  const task = exec.task(taskId);
  if (task.state !== TaskState.ready) return undefined;
  const { attemptId, attempt } = info;
  const running = exec.prepareTransition(
    taskId,
    TaskState.running,
    Reason.started,
    by,
    {
      attempts: attempt,
      firstStartedAt: task.firstStartedAt ?? info.startedAt,
      notBefore: null,
      cacheKey: info.cacheKey,
    },
    // A soft budget threshold passed: said on the transition the API, check run and console show.
    info.cost.warning,
  );
  const placement = placementOf(exec, taskId);
  const token = await exec.storeAttemptStart(
    {
      ...(placement ? { placement } : {}),
      id: attemptId,
      runId: exec.runId,
      taskId,
      attempt,
      startedAt: info.startedAt,
      inputs: recordedInputs(info.resolved, info.redact),
      workDir: info.workDir,
      artifactsDir: info.artifactsDir,
      cacheKey: info.cacheKey,
      pricePerHour: info.cost.pricePerHour,
      estimatedCost: info.cost.estimatedCost,
      ...baselineOf(exec, taskId, info),
      owner: ctx.owner,
      leaseMs: ctx.leaseMs,
    },
    running.write,
  );
  running.commit();
  // What the store now holds for it: the receipt names it from here, not from a read-back.
  if (placement) info.runnerPlacement = placement;
  exec.spend.started(attemptId, taskId, info.startedAt, info.cost.pricePerHour);
  const hit = info.cacheKey ? await ctx.store.getCacheEntry(info.cacheKey, ctx.clock.now()) : undefined;
  return { token, hit };
}

/**
 * The on-demand price an attempt placed by price-aware placement is measured against, stored with
 * it so the usage report sums its savings (as the placement metric counts them); none for an
 * attempt not placed, or one that holds no compute (priced zero: it saves nothing).
 */
function baselineOf(exec: AttemptHost, taskId: string, info: AttemptInfo): { onDemandPerHour?: number } {
  if (!info.placement || holdsNoCompute(exec.planTask(taskId))) return {};
  return { onDemandPerHour: info.placement.baseline };
}

/**
 * Where the task's runner will put this attempt (a Kubernetes cluster), stored with it before it
 * starts: a resuming engine re-attaches there even if the runners config has changed since.
 * None when the runner does not choose, or cannot place it (its start then fails with the reason).
 */
function placementOf(exec: AttemptHost, taskId: string): RunnerPlacement | undefined {
  const task = exec.planTask(taskId);
  const answer = exec.ctx.runners
    .get(task.runner)
    ?.place?.({ resources: task.resources, namespace: exec.run.namespace });
  return answer && 'placement' in answer ? answer.placement : undefined;
}

/** A cache hit's result, stored fenced like any other; inside the run's queue. */
export async function finishCached(
  exec: AttemptHost,
  taskId: string,
  info: AttemptInfo,
  token: number,
  hit: CacheEntry,
): Promise<void> {
  const { ctx } = exec;
  const now = ctx.clock.now();
  const cached = exec.prepareTransition(
    taskId,
    TaskState.cached,
    Reason.cacheHit,
    `engine:${ctx.owner}`,
    undefined,
    info.cacheKey ?? undefined,
  );
  await ctx.store.finishAttempt(
    info.attemptId,
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
  exec.storedOutputs(taskId, hit.outputs);
  exec.spend.finished(info.attemptId, taskId, info.startedAt, now, info.cost.pricePerHour);
  void exec.taskLog(taskId, info.attempt, 'system', `cache hit ${info.cacheKey}`);
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
}
