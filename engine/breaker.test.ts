import { describe, expect, it } from 'vitest';
import type { TelemetrySignal } from '../core/index.ts';
import { CircuitBreaker } from './breaker.ts';

describe('CircuitBreaker telemetry', () => {
  it('says once when a circuit opens and once when it closes again, naming no target', () => {
    let now = 0;
    const signals: TelemetrySignal[] = [];
    const breaker = new CircuitBreaker(
      { threshold: 2, coolDownMs: 100 },
      { now: () => now, sleep: async () => undefined },
      { emit: (s) => signals.push(s) },
    );
    breaker.record('local:img', true);
    expect(signals).toEqual([]);
    breaker.record('local:img', true);
    expect(breaker.isOpen('local:img')).toBe(true);
    now = 200;
    // The half-open attempt fails: still one opening.
    breaker.record('local:img', true);
    breaker.record('local:img', false);
    breaker.record('local:img', false);
    expect(signals).toEqual([
      { kind: 'breaker', state: 'open' },
      { kind: 'breaker', state: 'closed' },
    ]);
  });
});
