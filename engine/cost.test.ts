import { describe, expect, it } from 'vitest';
import { budgetVerdict } from './budget-guard.ts';
import { DEFAULT_PRICE_TABLE, RESOURCE_CLASSES, costOf, pricePerHour } from './cost.ts';

describe('the default price table', () => {
  it('prices every runner and class above zero, from CPU and memory at the on-demand rate', () => {
    for (const runner of ['local', 'container', 'kubernetes', 'serverless'])
      for (const size of Object.keys(RESOURCE_CLASSES))
        expect(pricePerHour(DEFAULT_PRICE_TABLE, runner, size)).toBeGreaterThan(0);
    expect(pricePerHour(DEFAULT_PRICE_TABLE, 'local', 'small')).toBeCloseTo(0.04937, 5);
    expect(costOf(DEFAULT_PRICE_TABLE, 'local', 'large', 1_800_000)).toBeCloseTo(
      (4 * 0.04048 + 8 * 0.004445) / 2,
      6,
    );
    // An unknown class is never free.
    expect(pricePerHour(DEFAULT_PRICE_TABLE, 'local', 'huge')).toBeGreaterThan(0);
  });

  it('an operator table wins per runner', () => {
    const table = { currency: 'EUR', perHour: { kubernetes: { small: 1 }, '*': { small: 2 } } };
    expect(pricePerHour(table, 'kubernetes', 'small')).toBe(1);
    expect(pricePerHour(table, 'local', 'small')).toBe(2);
  });
});

describe('budgetVerdict', () => {
  it('allows up to the limit and refuses past it, saying estimate, spent and limit', () => {
    expect(budgetVerdict(5, 'USD', 2, 3).allowed).toBe(true);
    const refused = budgetVerdict(5, 'USD', 2, 3.5);
    expect(refused.allowed).toBe(false);
    expect(refused.message).toBe(
      "budget exceeded: this task's estimated cost 3.50 USD plus 2.00 USD already spent by the run is over its budget of 5.00 USD (spec.budget)",
    );
  });
});
