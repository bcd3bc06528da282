/**
 * Policy decisions for the decision-log tests: one record generator, so the storage tests, the
 * verify tests and the store contract all write the same varied shapes (allowed and denied,
 * with and without a delivery, unavailable, reasons with quotes and non-ASCII text).
 */
import type { DecisionLog, DecisionLogEntry, DecisionRecord } from '../../policy/index.ts';

/** The `i`-th decision (1-based): its fields vary with `i`, its time is `i` seconds into 2026. */
export const decisionRecord = (i: number, extra: Partial<DecisionRecord> = {}): DecisionRecord => ({
  decisionId: `d-${i}`,
  time: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  runId: 'run-1',
  taskId: `t${i}`,
  attempt: 1,
  deliveryId: i % 3 === 0 ? `delivery-${i}` : null,
  inputDigest: `sha256:${String(i % 10).repeat(64)}`,
  bundleDigest: 'sha256:b',
  allow: i % 2 === 0,
  unavailable: i % 5 === 0,
  reasons: i % 2 === 0 ? [] : [`reason ${i}`, 'with "quotes" and ünïcode'],
  ...extra,
});

/** Appends decisions `from`..`to` (inclusive) in order and returns every entry the log holds. */
export async function appendDecisions(log: DecisionLog, to: number, from = 1): Promise<DecisionLogEntry[]> {
  for (let i = from; i <= to; i++) await log.append(decisionRecord(i));
  return log.entries();
}
