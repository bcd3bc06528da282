/**
 * The `placement` section of the operator's price table (ADR-051, docs/budgets.md): flavors other
 * than on-demand per runner kind, and time-of-day windows, over the table's on-demand `perHour`.
 *
 *   placement:
 *     flavors:
 *       kubernetes:
 *         spot: 0.35                 # a multiplier of the on-demand price, or
 *         # spot: { small: 0.012, large: 0.05 }   per-class prices per hour
 *     windows:                       # UTC; a price in the window is the price times `factor`
 *       - { from: '22:00', to: '06:00', factor: 0.7 }
 *       - { from: '12:00', to: '14:00', factor: 1.5, runners: [kubernetes] }
 *
 * Checked like the table's other sections (priceTableError names the field). Pure.
 */
import { checkClassPrices, isMapping, priceTableError } from '../price-table-checks.ts';

export const ON_DEMAND = 'on-demand';

/** A flavor's price: a factor of on-demand, or per-class prices per hour. */
export type FlavorPrice = number | Record<string, number>;

export interface PriceWindow {
  /** Minutes after 00:00 UTC; `to` before `from` wraps past midnight. */
  fromMinute: number;
  toMinute: number;
  factor: number;
  /** Runner kinds it applies to; absent: every runner. */
  runners?: string[];
}

export interface PlacementSection {
  flavors: Record<string, Record<string, FlavorPrice>>;
  windows: PriceWindow[];
}

const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

export function checkPlacementSection(value: unknown, file: string, field: string): PlacementSection {
  if (!isMapping(value))
    throw priceTableError(file, field, 'expected a mapping with `flavors` and/or `windows`');
  for (const key of Object.keys(value))
    if (key !== 'flavors' && key !== 'windows')
      throw priceTableError(file, `${field}.${key}`, 'unknown key', 'the keys are flavors, windows');
  return {
    flavors: checkFlavors(value.flavors ?? {}, file, `${field}.flavors`),
    windows: checkWindows(value.windows ?? [], file, `${field}.windows`),
  };
}

function checkFlavors(value: unknown, file: string, field: string): PlacementSection['flavors'] {
  if (!isMapping(value))
    throw priceTableError(file, field, 'expected a mapping of runner kind to its flavors');
  const out: PlacementSection['flavors'] = {};
  for (const [runner, flavors] of Object.entries(value)) {
    if (!isMapping(flavors))
      throw priceTableError(file, `${field}.${runner}`, 'expected a mapping of flavor name to its price');
    out[runner] = {};
    for (const [flavor, price] of Object.entries(flavors)) {
      const at = `${field}.${runner}.${flavor}`;
      if (flavor === ON_DEMAND)
        throw priceTableError(file, at, 'on-demand is the table’s perHour: name only the other flavors');
      if (!/^[a-z][a-z0-9-]{0,30}$/.test(flavor))
        throw priceTableError(file, at, 'a flavor name is lower-case letters, digits and dashes');
      out[runner][flavor] = checkFlavorPrice(price, file, at);
    }
  }
  return out;
}

function checkFlavorPrice(price: unknown, file: string, at: string): FlavorPrice {
  if (positive(price)) return price;
  if (!isMapping(price))
    throw priceTableError(
      file,
      at,
      `expected a factor above 0 or per-class prices, got ${JSON.stringify(price)}`,
    );
  return checkClassPrices(price, file, at);
}

function minuteOf(v: unknown, file: string, at: string): number {
  const m = typeof v === 'string' ? /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(v) : null;
  if (!m) throw priceTableError(file, at, `expected a UTC time HH:MM, got ${JSON.stringify(v)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function checkWindows(value: unknown, file: string, field: string): PriceWindow[] {
  if (!Array.isArray(value)) throw priceTableError(file, field, 'expected a list of { from, to, factor }');
  return value.map((w: unknown, i) => {
    const at = `${field}[${i}]`;
    if (!isMapping(w)) throw priceTableError(file, at, 'expected { from, to, factor }');
    const fromMinute = minuteOf(w.from, file, `${at}.from`);
    const toMinute = minuteOf(w.to, file, `${at}.to`);
    if (fromMinute === toMinute) throw priceTableError(file, at, 'from and to are the same time');
    if (!positive(w.factor)) throw priceTableError(file, `${at}.factor`, 'expected a factor above 0');
    const window: PriceWindow = { fromMinute, toMinute, factor: w.factor };
    if (w.runners !== undefined) {
      if (!Array.isArray(w.runners) || !w.runners.every((r) => typeof r === 'string'))
        throw priceTableError(file, `${at}.runners`, 'expected a list of runner kinds');
      window.runners = w.runners as string[];
    }
    return window;
  });
}
