import { describe, expect, it } from 'vitest';
import { waitSpecOf } from './wait-spec.ts';

describe('waitSpecOf', () => {
  it('reads `until` as an RFC 3339 time with a zone', () => {
    expect(waitSpecOf('w', { until: '2026-12-02T03:00:00Z' }).untilMs).toBe(Date.UTC(2026, 11, 2, 3));
  });

  it('refuses an `until` that matches the pattern but names no real date', () => {
    expect(() => waitSpecOf('w', { until: '2026-13-01T00:00:00Z' })).toThrow(/is not a date that exists/);
  });
});
