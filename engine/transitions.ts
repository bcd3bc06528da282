/**
 * The one path every run and task state change takes: assert the transition is legal, store
 * it, then emit its event. RunExecution uses it for the runs it executes; `retry` and the cancel
 * of a run nobody executes use it too, so every change is checked, stored and published alike.
 */
import { isTerminalRunState, type Reason, type RunState, type TaskState } from '../core/index.ts';
import type { EngineContext } from './context.ts';
import type { EngineEvent, RunOf } from './events.ts';
import { assertRunTransition, assertTaskTransition } from './state-machine.ts';
import type {
  RunPatch,
  RunRecord,
  RunTransitionWrite,
  TaskPatch,
  TaskRecord,
  TaskTransitionWrite,
} from './store/store.ts';

type Ctx = Pick<EngineContext, 'store' | 'clock' | 'emit' | 'logger'>;

/** Asserts, stores and emits a run's transition; returns the time it was stored with. */
export async function transitionRun(
  ctx: Ctx,
  runId: string,
  from: RunState,
  to: RunState,
  reason: Reason,
  by: string,
  patch?: RunPatch,
): Promise<number> {
  const prepared = prepareRunTransition(ctx, runId, from, to, reason, by, patch);
  const w = prepared.write;
  await ctx.store.transitionRun(runId, from, to, reason, by, w.time, patch);
  prepared.emit();
  return w.time;
}

/**
 * Asserts a run transition and returns what to store and the event to publish after (logged and
 * emitted by `emit`), so the transition can share a batch (`AsyncStore.commitRunWrites`).
 */
export function prepareRunTransition(
  ctx: Ctx,
  runId: string,
  from: RunState,
  to: RunState,
  reason: Reason,
  by: string,
  patch?: RunPatch,
  /** The run's workflow etc., carried by the event (RunOf), when the caller holds its record. */
  of?: RunOf,
): { write: RunTransitionWrite; emit(): void } {
  assertRunTransition(from, to);
  const time = ctx.clock.now();
  return {
    write: { from, to, reason, by, time, ...(patch ? { patch } : {}) },
    emit: () => {
      ctx.logger.info({ runId, from, to, reason, by }, 'run transition');
      ctx.emit({ type: 'run', runId, from, to, reason, by, time, ...(of ? { of } : {}) });
    },
  };
}

/**
 * The run record as the store has it after `transitionRun(…, to, reason, …, time)`: the same
 * columns both stores' UPDATE sets (started_at kept once set, finished_at only when final), so
 * the executing engine need not read the row back after each of its own transitions.
 */
export function afterRunTransition(run: RunRecord, to: RunState, reason: Reason, time: number): RunRecord {
  return {
    ...run,
    status: to,
    reason,
    startedAt: run.startedAt ?? (to === 'running' ? time : null),
    finishedAt: isTerminalRunState(to) ? time : null,
  };
}

export interface PreparedTaskTransition {
  write: TaskTransitionWrite;
  /** The task as it is once the write is stored. */
  next: TaskRecord;
  /** Publishes the event; call after the store accepted `write`. */
  emit(): void;
}

/**
 * Asserts a task transition and returns what to store and the event to publish after, so a
 * transition can share the transaction of an attempt's start or finish.
 */
export function prepareTaskTransition(
  ctx: Ctx,
  current: TaskRecord,
  to: TaskState,
  reason: Reason,
  by: string,
  patch?: TaskPatch,
  detail?: string,
): PreparedTaskTransition {
  assertTaskTransition(current.state, to);
  const time = ctx.clock.now();
  const write: TaskTransitionWrite = { from: current.state, to, reason, by, time };
  if (patch) write.patch = patch;
  if (detail !== undefined) write.detail = detail;
  const next = { ...current, ...patch, state: to, reason, updatedAt: time } as TaskRecord;
  const event: EngineEvent = {
    type: 'task',
    runId: current.runId,
    taskId: current.taskId,
    from: current.state,
    to,
    reason,
    by,
    time,
    attempt: next.attempts,
    ...(detail === undefined ? {} : { detail }),
  };
  return { write, next, emit: () => ctx.emit(event) };
}

/** Asserts, stores and emits a task's transition (outside a shared transaction). */
export async function transitionTask(
  ctx: Ctx,
  current: TaskRecord,
  to: TaskState,
  reason: Reason,
  by: string,
  patch?: TaskPatch,
  detail?: string,
): Promise<TaskRecord> {
  const prepared = prepareTaskTransition(ctx, current, to, reason, by, patch, detail);
  await storeTaskWrite(ctx, current, prepared.write);
  prepared.emit();
  return prepared.next;
}

export function storeTaskWrite(ctx: Ctx, task: TaskRecord, w: TaskTransitionWrite): Promise<void> {
  return ctx.store.transitionTask(
    task.runId,
    task.taskId,
    w.from,
    w.to,
    w.reason,
    w.by,
    w.time,
    w.patch,
    w.detail,
  );
}
