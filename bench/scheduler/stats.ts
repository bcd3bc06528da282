/** Percentiles and the PASS/MISS lines of bench/scheduler. */

export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * Nearest-rank percentile (the smallest value with at least p % of the values at or below it),
 * so a reported p99 is a latency some request really had. NaN for no values.
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
  };
}

export function median(values: readonly number[]): number {
  return percentile(
    [...values].sort((a, b) => a - b),
    50,
  );
}

/** `PASS`/`MISS` and the line that says what was asked and what was measured. */
export function target(name: string, measured: number, limit: number, unit = 'ms'): string {
  const ok = Number.isFinite(measured) && measured <= limit;
  return `${ok ? 'PASS' : 'MISS'}  ${name}: ${fmt(measured)} ${unit} (target ≤ ${fmt(limit)} ${unit})`;
}

export function fmt(n: number): string {
  if (!Number.isFinite(n) || Number.isInteger(n)) return String(n);
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toFixed(1);
}
