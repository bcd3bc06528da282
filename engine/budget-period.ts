/**
 * Where a namespace budget's period began (docs/budgets.md): calendar periods in UTC, so every
 * replica, whatever its time zone, counts the same attempts. Weeks start on Monday (ISO 8601).
 */
import type { BudgetPeriod } from './store/store.ts';

export function periodStart(period: BudgetPeriod, now: number): number {
  const d = new Date(now);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === 'day') return day;
  if (period === 'week') return day - ((d.getUTCDay() + 6) % 7) * 86_400_000;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** "this month", as a message says it. */
export const periodWord = (period: BudgetPeriod): string => `this ${period}`;
