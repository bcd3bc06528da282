/**
 * The commands an engine applies to a run it is not executing: the retry of a terminal run's
 * failed part, and the cancel of a run nobody executes. Both go through the one transition path
 * (transitions.ts: asserted, stored, then published).
 */
import { Reason, RunState, TaskState, isTerminalRunState } from '../core/index.ts';
import type { EngineContext } from './context.ts';
import { RunNotApprovedError, StaleStateError, TaskNotRetryableError } from './errors.ts';
import { transitionRun, transitionTask } from './transitions.ts';
import type { RunRecord, TaskRecord } from './store/store.ts';

const failedLike = new Set<string>([
  TaskState.failed,
  TaskState.timedOut,
  TaskState.cancelled,
  TaskState.blockedByPolicy,
]);

/** Engine.retry: re-opens the failed part of a terminal run (`only`: those tasks) as new attempts. */
export async function retryRun(
  ctx: EngineContext,
  runId: string,
  by: string,
  only: readonly string[] | undefined,
): Promise<RunRecord> {
  const store = ctx.store;
  const run = await store.getRun(runId);
  if (!isTerminalRunState(run.status) || run.status === RunState.succeeded)
    throw new StaleStateError(
      `run ${runId} is ${run.status}: only a failed, cancelled or timed-out run can be retried`,
    );
  // A gated run that never got its approval (cancelled while waiting) stays unrun: a retry
  // goes straight to queued and would walk around the gate.
  const created = (await store.listTransitions(runId, null))[0];
  if (run.approvalDigest === null && created?.to === RunState.waitingForApproval)
    throw new RunNotApprovedError(runId);
  const tasks = await store.listTasks(runId);
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const reopen = reopenedTasks(run, tasks, byId, only);
  await store.clearRunCancel(runId);
  // The same path as every other transition: asserted, stored, then published.
  await transitionRun(ctx, runId, run.status, RunState.queued, Reason.retriedByUser, by);
  for (const id of reopen)
    await transitionTask(ctx, byId.get(id)!, TaskState.queued, Reason.retriedByUser, by, {
      retryBase: byId.get(id)!.attempts,
      firstStartedAt: null,
      notBefore: null,
    });
  return store.getRun(runId);
}

/** The failed tasks a retry re-opens, and those skipped because of them (plan order is topological). */
function reopenedTasks(
  run: RunRecord,
  tasks: readonly TaskRecord[],
  byId: ReadonlyMap<string, TaskRecord>,
  only: readonly string[] | undefined,
): Set<string> {
  const reopen = new Set<string>();
  for (const id of only ?? []) {
    const t = byId.get(id);
    if (!t || !failedLike.has(t.state)) throw new TaskNotRetryableError(run.id, id, t?.state);
  }
  for (const t of tasks)
    if (failedLike.has(t.state) && (only === undefined || only.includes(t.taskId))) reopen.add(t.taskId);
  for (const p of run.plan.tasks) {
    const t = byId.get(p.id)!;
    const skippedByFailure =
      t.state === TaskState.skipped &&
      (t.reason === Reason.dependencyFailed || t.reason === Reason.dependencySkipped) &&
      p.needs.some((n) => reopen.has(n));
    if (skippedByFailure) reopen.add(p.id);
  }
  return reopen;
}

/** Cancels a run nobody is executing: its open tasks and the run itself, in the store. */
export async function cancelIdle(ctx: EngineContext, run: RunRecord, by: string): Promise<void> {
  const store = ctx.store;
  const now = ctx.clock.now();
  for (const t of await store.listTasks(run.id)) {
    if (
      t.state !== TaskState.queued &&
      t.state !== TaskState.ready &&
      t.state !== TaskState.waitingForApproval
    )
      continue;
    await transitionTask(ctx, t, TaskState.cancelled, Reason.cancelRequested, by);
  }
  if (run.status === RunState.running) {
    // Running tasks belong to a dead engine: their attempts are closed as interrupted first.
    for (const a of await store.listAttempts(run.id))
      if (a.status === 'running')
        await store.interruptAttempt(a.id, now, `cancelled by ${by} while no engine was running it`);
    for (const t of await store.listTasks(run.id))
      if (t.state === TaskState.running)
        await transitionTask(ctx, t, TaskState.cancelled, Reason.cancelRequested, by);
  }
  await transitionRun(ctx, run.id, run.status, RunState.cancelled, Reason.cancelRequested, by);
}
