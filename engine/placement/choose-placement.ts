/**
 * Price-aware placement (ADR-051): where and when a deferrable task runs. The candidates are
 * every flavor of its runner (on-demand, and the price table's `placement.flavors`) at every
 * start time from now to the latest start that still meets its deadline (the deadline minus its
 * estimated duration) where a price changes (a window's edge); the cheapest wins, ties going to
 * the earlier start and then to on-demand. Pure: the clock and the table are arguments.
 */
import { pricePerHour, type PriceTable } from '../cost.ts';
import { ON_DEMAND, type PlacementSection, type PriceWindow } from './price-section.ts';

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

export interface PlacementChoice {
  flavor: string;
  /** When to start (ms since the epoch); `now` when nothing later is cheaper. */
  start: number;
  /** The chosen flavor's price per hour at `start`. */
  perHour: number;
  /** On-demand's price per hour now: what running at once would have cost (the savings' base). */
  onDemandPerHour: number;
}

export interface AttemptPlacement extends PlacementChoice {
  /** On-demand's price per hour when the task became ready: what it would have cost unplaced. */
  baseline: number;
}

export interface PlacementQuery {
  table: PriceTable;
  runner: string;
  resources: string;
  now: number;
  /** How long after `now` the task must have finished. */
  deadlineMs: number;
  /** Its estimated duration (its timeout, or an hour). */
  estimateMs: number;
  /** Flavors not to use (a spot attempt was refused or evicted: on-demand next). */
  exclude?: ReadonlySet<string>;
}

export function placementOf(table: PriceTable): PlacementSection | undefined {
  return table.sections?.placement as PlacementSection | undefined;
}

/** The runner's flavors: on-demand first, then the table's for this runner (or `*`). */
export function flavorsOf(table: PriceTable, runner: string): string[] {
  const section = placementOf(table);
  const own = section?.flavors[runner] ?? section?.flavors['*'] ?? {};
  return [ON_DEMAND, ...Object.keys(own)];
}

/** A flavor's price per hour at `time`: its base price times the factor of each window it is in. */
export function priceAt(
  table: PriceTable,
  runner: string,
  resources: string,
  flavor: string,
  time: number,
): number {
  const onDemand = pricePerHour(table, runner, resources);
  const section = placementOf(table);
  let price = onDemand;
  if (flavor !== ON_DEMAND) {
    const given = (section?.flavors[runner] ?? section?.flavors['*'] ?? {})[flavor];
    if (given === undefined) return Infinity;
    // A class the flavor does not price costs on-demand on it (no saving assumed).
    price = typeof given === 'number' ? onDemand * given : (given[resources] ?? onDemand);
  }
  for (const w of section?.windows ?? []) if (applies(w, runner) && inWindow(w, time)) price *= w.factor;
  return price;
}

function applies(w: PriceWindow, runner: string): boolean {
  return w.runners === undefined || w.runners.includes(runner);
}

function inWindow(w: PriceWindow, time: number): boolean {
  const minute = Math.floor((time % DAY_MS) / MINUTE_MS);
  return w.fromMinute < w.toMinute
    ? minute >= w.fromMinute && minute < w.toMinute
    : minute >= w.fromMinute || minute < w.toMinute;
}

/** Now, and every window edge after now up to `latest` (where a price may change). */
function startTimes(section: PlacementSection | undefined, now: number, latest: number): number[] {
  const times = new Set([now]);
  const edges = (section?.windows ?? []).flatMap((w) => [w.fromMinute, w.toMinute]);
  for (let day = Math.floor(now / DAY_MS) * DAY_MS; day <= latest; day += DAY_MS)
    for (const minute of edges) {
      const t = day + minute * MINUTE_MS;
      if (t > now && t <= latest) times.add(t);
    }
  return [...times].sort((a, b) => a - b);
}

export function choosePlacement(q: PlacementQuery): PlacementChoice {
  const { table, runner, resources, now } = q;
  const onDemandPerHour = priceAt(table, runner, resources, ON_DEMAND, now);
  // A deadline shorter than the estimate: start now (the earliest finish there is).
  const latest = Math.max(now, now + q.deadlineMs - q.estimateMs);
  const flavors = flavorsOf(table, runner).filter((f) => f === ON_DEMAND || !q.exclude?.has(f));
  let best: PlacementChoice = { flavor: ON_DEMAND, start: now, perHour: onDemandPerHour, onDemandPerHour };
  for (const start of startTimes(placementOf(table), now, latest))
    for (const flavor of flavors) {
      const perHour = priceAt(table, runner, resources, flavor, start);
      // Strictly cheaper only: ties keep the earlier start, and on-demand (listed first).
      if (perHour < best.perHour - 1e-12) best = { flavor, start, perHour, onDemandPerHour };
    }
  return best;
}
