// cron-parser (with luxon) loads with the first schedule read, not with the engine: most runs have none.
import { cronLibrary, MAX_CATCH_UP_SLOTS, type PlanSchedule } from '../../compiler/index.ts';

export interface DueWindow {
  /** Slots after this instant are candidates (the workflow's watermark: what was already looked at). */
  afterMs: number;
  /** ... up to and including this one (now). */
  nowMs: number;
  /** A slot at most this old is on time (the tick interval's slack), whatever `catchUp` says. */
  graceMs: number;
}

/**
 * The slot times (ms since the epoch) of one schedule entry that are due in the window, oldest
 * first, after applying its catch-up rule to those older than the grace:
 * `latest` keeps only the latest slot of the window, `none` only the on-time ones, `{ withinMs }`
 * those no older than that, `all` every one. Never more than MAX_CATCH_UP_SLOTS (the latest).
 * Pure: the window's instants are the caller's clock.
 */
export function dueSlots(schedule: PlanSchedule, window: DueWindow): number[] {
  if (window.nowMs <= window.afterMs) return [];
  const slots = slotsBetween(schedule, window.afterMs, window.nowMs, MAX_CATCH_UP_SLOTS);
  const age = (slot: number) => window.nowMs - slot;
  const { catchUp } = schedule;
  if (catchUp === 'latest') return slots.slice(-1);
  if (catchUp === 'all') return slots;
  const within = catchUp === 'none' ? window.graceMs : Math.max(catchUp.withinMs, window.graceMs);
  return slots.filter((slot) => age(slot) <= within);
}

/** The latest `cap` slots in (afterMs, throughMs], oldest first, read in the entry's time zone. */
export function slotsBetween(
  schedule: PlanSchedule,
  afterMs: number,
  throughMs: number,
  cap: number,
): number[] {
  // Walk backwards from the end: a long downtime with a per-minute cron costs `cap` steps, not
  // one per minute since the watermark.
  const expression = cronLibrary().CronExpressionParser.parse(schedule.cron, {
    currentDate: new Date(throughMs + 1),
    tz: schedule.timezone,
  });
  const slots: number[] = [];
  while (slots.length < cap && expression.hasPrev()) {
    const slot = expression.prev().getTime();
    if (slot <= afterMs) break;
    if (slot <= throughMs) slots.push(slot);
  }
  return slots.reverse();
}

/** The next slot of an entry after `afterMs`, for the ticker's sleep. */
export function nextSlot(schedule: PlanSchedule, afterMs: number): number | undefined {
  const expression = cronLibrary().CronExpressionParser.parse(schedule.cron, {
    currentDate: new Date(afterMs),
    tz: schedule.timezone,
  });
  return expression.hasNext() ? expression.next().getTime() : undefined;
}
