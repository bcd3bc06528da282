/**
 * The durable timer: a ready task that may not start before a time T. It is a stored fact, not a
 * sleeping process: the task's transition to `ready` (reason `waiting_until`, detail naming T and
 * why) carries `notBefore = T` in the same write, the execution arms an in-memory timer from it,
 * and a resumed or taken-over execution re-arms it from the store (recover-run.ts), so a kill -9
 * of the engine neither loses the wait nor restarts it. Nothing runs until T: no runner, no pod.
 *
 * Who sets one: the built-in `wait` task (`for`, `until`; wait/wait-spec.ts), and a deferrable
 * task whose cheapest start within its deadline is later (placement/, ADR-051).
 */
import { describeError, type PlanTask } from '../core/index.ts';
import type { AttemptHost } from './attempt-host.ts';
import { resolveTask } from './dispatch.ts';
import { deferral, isPlaced } from './placement/attempt-placement.ts';
import { isWaitPrimitive, waitSpecOf, waitUntil } from './wait/wait-spec.ts';

export interface Timer {
  /** ms since the epoch; the task may not start before it. */
  until: number;
  /** Stored as the transition's detail: when, and why. */
  detail: string;
}

/** True when a task may be held by a timer: the readiness pass, not a shortcut, must ready it. */
export function mayHoldTimer(plan: PlanTask): boolean {
  return isWaitPrimitive(plan) || isPlaced(plan);
}

/**
 * The timer a task becoming ready now must wait for, if any (T in the future). Inputs that do not
 * resolve or parse set no timer: the attempt then fails with the same error, in its log.
 */
export async function timerFor(exec: AttemptHost, plan: PlanTask): Promise<Timer | undefined> {
  if (isPlaced(plan)) return deferral(exec, plan);
  if (!isWaitPrimitive(plan)) return undefined;
  const now = exec.ctx.clock.now();
  let until: number | undefined;
  try {
    const inputs = resolveTask(plan, await exec.dispatchContext(plan.id)).with;
    until = waitUntil(waitSpecOf(plan.id, inputs), now);
  } catch (error) {
    exec.ctx.logger.debug(
      { runId: exec.runId, taskId: plan.id, err: describeError(error) },
      'wait sets no timer',
    );
    return undefined;
  }
  if (until === undefined || until <= now) return undefined;
  return { until, detail: `until ${new Date(until).toISOString()} (tasks/wait)` };
}
