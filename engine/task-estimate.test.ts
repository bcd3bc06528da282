import { describe, expect, it } from 'vitest';
import { periodStart } from './budget-period.ts';
import { namespaceVerdict } from './budget-guard.ts';
import { p90 } from './task-estimate.ts';

describe('estimates and periods', () => {
  it('takes the nearest-rank p90 of a task’s history', () => {
    expect(p90([])).toBeUndefined();
    expect(p90([5])).toBe(5);
    expect(p90([10, 1, 2, 3, 4, 5, 6, 7, 8, 9])).toBe(9);
    expect(p90([...Array(100).keys()].map((i) => i + 1))).toBe(90);
  });

  it('starts periods on UTC calendar boundaries, weeks on Monday', () => {
    const wed = Date.parse('2026-12-02T13:45:00Z');
    expect(new Date(periodStart('day', wed)).toISOString()).toBe('2026-12-02T00:00:00.000Z');
    expect(new Date(periodStart('week', wed)).toISOString()).toBe('2026-11-30T00:00:00.000Z');
    expect(new Date(periodStart('month', wed)).toISOString()).toBe('2026-12-01T00:00:00.000Z');
    const sunday = Date.parse('2026-12-06T23:59:59Z');
    expect(new Date(periodStart('week', sunday)).toISOString()).toBe('2026-11-30T00:00:00.000Z');
  });

  it('refuses past the limit, warns past the soft share, and refuses a budget in another currency', () => {
    const budget = {
      namespace: 'data',
      limit: 10,
      currency: 'USD',
      period: 'month' as const,
      soft: 0.8,
      maxRuns: null,
      maxTasks: null,
      updatedAt: 0,
      updatedBy: 'x',
    };
    expect(namespaceVerdict(budget, 'USD', 5, 2)).toEqual({ allowed: true });
    expect(namespaceVerdict(budget, 'USD', 7, 2).warning).toContain(
      'is past 80% of its budget of 10.00 USD per month',
    );
    expect(namespaceVerdict(budget, 'USD', 9, 2)).toMatchObject({ allowed: false });
    expect(namespaceVerdict({ ...budget, limit: null }, 'USD', 1e9, 1)).toEqual({ allowed: true });
    const eur = namespaceVerdict({ ...budget, currency: 'EUR' }, 'USD', 0, 0);
    expect(eur.allowed).toBe(false);
    expect(eur.message).toContain('is in EUR but the price table is in USD');
  });
});
