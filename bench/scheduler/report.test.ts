import { describe, expect, it } from 'vitest';
import type { Sent } from './open-loop.ts';
import { analyse, report } from './report.ts';
import { percentile, summarize, target } from './stats.ts';
import type { Started } from './target.ts';

describe('percentile', () => {
  it('is nearest-rank: a value some request really had', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(values, 50)).toBe(50);
    expect(percentile(values, 95)).toBe(95);
    expect(percentile(values, 99)).toBe(99);
    expect(percentile(values, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it('summarize sorts first and reports the max', () => {
    expect(summarize([30, 10, 20])).toEqual({ count: 3, p50: 20, p95: 30, p99: 30, max: 30 });
  });
});

describe('target', () => {
  it('says PASS at or under the limit and MISS over it or for no measurement', () => {
    expect(target('p95', 50, 50)).toMatch(/^PASS/);
    expect(target('p95', 50.1, 50)).toMatch(/^MISS/);
    expect(target('p95', NaN, 50)).toMatch(/^MISS/);
  });
});

describe('analyse', () => {
  const sent = (index: number, scheduledAt: number, doneAt: number, result?: string): Sent<string> => ({
    index,
    scheduledAt,
    sentAt: scheduledAt,
    doneAt,
    ...(result === undefined ? { error: new Error('POST /v1/runs: 503') } : { result }),
  });

  it('measures the decision from the stored times and counts every kind of error', () => {
    const started = new Map<string, Started>([
      ['a', { acceptedAt: 1_004, startedAt: 1_014 }],
      ['b', { acceptedAt: 1_015, startedAt: 1_035, error: 'run failed' }],
    ]);
    const r = analyse(
      'maestro-sqlite',
      [
        sent(0, 1_000, 1_005, 'a'),
        sent(1, 1_010, 1_016, 'b'),
        sent(2, 1_020, 1_021),
        sent(3, 1_030, 1_031, 'c'),
      ],
      started,
      0.4,
    );
    expect(r.decision.p50).toBe(10);
    expect(r.decision.max).toBe(20);
    expect(r.accept.max).toBe(6);
    expect(r.endToEnd.max).toBe(25); // scheduled 1_010 → leased 1_035
    expect(Object.fromEntries(r.errors)).toEqual({
      'run failed': 1,
      'POST /v1/runs: 503': 1,
      'never started': 1,
    });
    expect(r.errorCount).toBe(3);
    expect(r.cpuMsPerRun).toBe(100);
    // 2 started between the first scheduled send (1_000) and the last start (1_035).
    expect(r.startedPerSecond).toBeCloseTo(2 / 0.035);
  });

  it('prints each target with PASS or MISS and the ratio to the peer', () => {
    const ok = new Map<string, Started>([['a', { acceptedAt: 0, startedAt: 4 }]]);
    const maestro = analyse('maestro-sqlite', [sent(0, 0, 1, 'a')], ok, 0);
    const peer = analyse(
      'graphile-worker',
      [sent(0, 0, 1, 'a')],
      new Map([['a', { acceptedAt: 0, startedAt: 2 }]]),
      0,
    );
    const text = report([maestro, peer], { rate: 1, seconds: 1 });
    expect(text).toContain('PASS  maestro-sqlite decision p95: 4 ms (target ≤ 50 ms)');
    expect(text).toContain('ratio maestro-sqlite/graphile-worker: p50 2×, p95 2×');
    expect(text).toContain("PASS  maestro-sqlite within 5× of graphile-worker's p95");
    expect(text).toContain('PASS  graphile-worker errors: 0 of 1 (target ≤ 0 of 1)');
  });
});
