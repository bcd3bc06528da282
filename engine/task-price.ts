/**
 * What an attempt of a task costs per hour. The engine's own primitives hold no compute: a `wait`
 * task is a durable timer (and an HTTP poll from the engine), an approval task parks its run and
 * never starts an attempt, so both are priced zero, whatever their runner and class say. Any
 * other task: its placement's flavor when price-aware placement chose one, else its runner and
 * class in the price table (never zero there, cost.ts).
 */
import type { PlanTask } from '../core/index.ts';
import { isApprovalTask } from './approval-task/approval-spec.ts';
import { pricePerHour, type PriceTable } from './cost.ts';
import type { AttemptPlacement } from './placement/choose-placement.ts';
import { isWaitPrimitive } from './wait/wait-spec.ts';

/** True for the built-in tasks the engine carries out without a runner (wait, approval). */
export function holdsNoCompute(plan: PlanTask): boolean {
  return isWaitPrimitive(plan) || isApprovalTask(plan);
}

export function taskPricePerHour(table: PriceTable, plan: PlanTask, placement?: AttemptPlacement): number {
  if (holdsNoCompute(plan)) return 0;
  return placement ? placement.perHour : pricePerHour(table, plan.runner, plan.resources);
}
