/**
 * Price-aware placement in an executing run (ADR-051): the deferral of a deferrable task to its
 * cheapest window (a durable timer), the flavor of each attempt of a placed task, a spot attempt
 * lost (refused or evicted) re-attempted on on-demand like an interrupted attempt, and the
 * savings against on-demand reported per namespace (a telemetry signal the server counts).
 */
import { AttemptOutcome, type AttemptResult, type PlanTask } from '../../core/index.ts';
import type { AttemptHost } from '../attempt-host.ts';
import { formatMoney } from '../cost.ts';
import { choosePlacement, flavorsOf, priceAt, type AttemptPlacement } from './choose-placement.ts';
import { ON_DEMAND } from './price-section.ts';
import { DEFAULT_ESTIMATE_MS } from '../task-estimate.ts';

/** The stored reason of a spot attempt lost: the next attempts of the task are on-demand. */
export const SPOT_LOST = 'spot_lost';
/** Runner reasons that mean the capacity went away, not the task failed (Kubernetes' among them). */
const LOSS_REASONS = new Set([
  'Evicted',
  'Preempted',
  'DisruptionTarget',
  'NodeShutdown',
  'TerminationByKubelet',
  'DeletionByPodGC',
  // No spot capacity to schedule on, or a flavor the runner was not configured with: refused.
  'Unschedulable',
  'flavor_not_configured',
  'spot_refused',
  'spot_evicted',
]);
const HOUR_MS = 3_600_000;

export function isPlaced(plan: PlanTask): boolean {
  return plan.placement?.deferrable === true;
}

async function lostFlavors(exec: AttemptHost, plan: PlanTask): Promise<Set<string> | undefined> {
  const attempts = await exec.ctx.store.listAttempts(exec.runId, plan.id);
  if (!attempts.some((a) => a.reason === SPOT_LOST)) return undefined;
  return new Set(flavorsOf(exec.ctx.prices, plan.runner).filter((f) => f !== ON_DEMAND));
}

/** The deferral of a task becoming ready now: its cheapest start, when later than now. */
export async function deferral(
  exec: AttemptHost,
  plan: PlanTask,
): Promise<{ until: number; detail: string } | undefined> {
  if (!plan.placement) return undefined;
  const { prices, clock } = exec.ctx;
  const now = clock.now();
  const exclude = await lostFlavors(exec, plan);
  const choice = choosePlacement({
    table: prices,
    runner: plan.runner,
    resources: plan.resources,
    now,
    deadlineMs: plan.placement.deadlineMs,
    // The deadline must hold however long it runs: its timeout (the worst case), not the guard's p90.
    estimateMs: plan.timeoutMs ?? DEFAULT_ESTIMATE_MS,
    ...(exclude ? { exclude } : {}),
  });
  if (choice.start <= now) return undefined;
  const money = (n: number) => formatMoney(n, prices.currency);
  return {
    until: choice.start,
    detail: `until ${new Date(choice.start).toISOString()} (placement: ${choice.flavor} at ${money(choice.perHour)}/h against on-demand ${money(choice.onDemandPerHour)}/h now, within the deadline)`,
  };
}

/** The flavor of an attempt starting now; `readyAt`: when the task became ready (the baseline's time). */
export async function placeAttempt(
  exec: AttemptHost,
  plan: PlanTask,
  readyAt: number,
): Promise<AttemptPlacement | undefined> {
  if (!isPlaced(plan)) return undefined;
  const { prices, clock } = exec.ctx;
  const exclude = await lostFlavors(exec, plan);
  const choice = choosePlacement({
    table: prices,
    runner: plan.runner,
    resources: plan.resources,
    now: clock.now(),
    deadlineMs: 0,
    estimateMs: 0,
    ...(exclude ? { exclude } : {}),
  });
  return { ...choice, baseline: priceAt(prices, plan.runner, plan.resources, ON_DEMAND, readyAt) };
}

/** A spot (non-on-demand) attempt that ended because its capacity went away or was refused. */
export function spotLost(placement: AttemptPlacement | undefined, result: AttemptResult): boolean {
  if (!placement || placement.flavor === ON_DEMAND || result.outcome === AttemptOutcome.succeeded)
    return false;
  return result.outcome === AttemptOutcome.runnerError || LOSS_REASONS.has(result.reason ?? '');
}

/** The attempt's savings against on-demand, logged on the task and signalled for the namespace's metric. */
export function reportPlacement(
  exec: AttemptHost,
  taskId: string,
  attempt: number,
  placement: AttemptPlacement,
  result: AttemptResult,
  lost: boolean,
): void {
  const { prices, telemetry } = exec.ctx;
  const hours = Math.max(0, result.finishedAt - result.startedAt) / HOUR_MS;
  const savings = lost ? 0 : (placement.baseline - placement.perHour) * hours;
  const money = (n: number) => formatMoney(n, prices.currency);
  void exec.taskLog(
    taskId,
    attempt,
    'system',
    lost
      ? `${placement.flavor} attempt lost (${result.reason ?? result.outcome}): re-attempted on on-demand`
      : `placed on ${placement.flavor} at ${money(placement.perHour)}/h; on-demand was ${money(placement.baseline)}/h when the task became ready: saved ${money(savings)}`,
  );
  telemetry?.emit({
    kind: 'placement',
    namespace: exec.run.namespace,
    flavor: placement.flavor,
    lost,
    savings,
    currency: prices.currency,
  });
}
