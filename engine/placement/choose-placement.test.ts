import { describe, expect, it } from 'vitest';
import { parsePriceTable } from '../price-table.ts';
import { choosePlacement, priceAt } from './choose-placement.ts';

// 2026-12-01T20:00:00Z: two hours before the off-peak window opens.
const EVENING = Date.UTC(2026, 11, 1, 20, 0);
const HOUR = 3_600_000;
const table = parsePriceTable(
  {
    currency: 'USD',
    perHour: { kubernetes: { small: 0.1 } },
    placement: {
      flavors: { kubernetes: { spot: 0.3 } },
      windows: [{ from: '22:00', to: '06:00', factor: 0.5, runners: ['kubernetes'] }],
    },
  },
  'prices.yaml',
);
const query = { table, runner: 'kubernetes', resources: 'small', now: EVENING, estimateMs: HOUR };

describe('price-aware placement (an injected clock and price table)', () => {
  it('prices a flavor by its factor and a window by the time of day', () => {
    expect(priceAt(table, 'kubernetes', 'small', 'on-demand', EVENING)).toBeCloseTo(0.1);
    expect(priceAt(table, 'kubernetes', 'small', 'spot', EVENING)).toBeCloseTo(0.03);
    expect(priceAt(table, 'kubernetes', 'small', 'spot', EVENING + 2 * HOUR)).toBeCloseTo(0.015);
    expect(priceAt(table, 'local', 'small', 'on-demand', EVENING + 2 * HOUR)).toBeGreaterThan(0); // not in runners
  });

  it('a deadline that reaches the off-peak window defers to its start, on spot', () => {
    expect(choosePlacement({ ...query, deadlineMs: 6 * HOUR })).toEqual({
      flavor: 'spot',
      start: EVENING + 2 * HOUR,
      perHour: expect.closeTo(0.015, 6),
      onDemandPerHour: expect.closeTo(0.1, 6),
    });
  });

  it('a deadline too short for the window runs now on the cheapest flavor; spot refused means on-demand', () => {
    expect(choosePlacement({ ...query, deadlineMs: 2 * HOUR })).toMatchObject({
      flavor: 'spot',
      start: EVENING,
    });
    expect(choosePlacement({ ...query, deadlineMs: 6 * HOUR, exclude: new Set(['spot']) })).toMatchObject({
      flavor: 'on-demand',
      start: EVENING + 2 * HOUR,
    });
  });

  it('a deadline shorter than the estimate starts now', () => {
    expect(choosePlacement({ ...query, deadlineMs: HOUR / 2 })).toMatchObject({ start: EVENING });
  });

  it('refuses a bad section naming the field', () => {
    const bad = (placement: unknown) => () => parsePriceTable({ placement }, 'prices.yaml');
    expect(bad({ flavors: { kubernetes: { spot: 0 } } })).toThrow(
      /prices.yaml: placement.flavors.kubernetes.spot:/,
    );
    expect(bad({ windows: [{ from: '25:00', to: '06:00', factor: 0.5 }] })).toThrow(
      /placement.windows\[0\].from: expected a UTC time/,
    );
    expect(bad({ flavors: { kubernetes: { 'on-demand': 0.5 } } })).toThrow(/perHour/);
  });
});
