import { describe, expect, it } from 'vitest';
import { DEFAULT_WORKER_RUNS, workerConcurrency } from './worker.ts';

describe('workerConcurrency (maestro server without --concurrency / MAESTRO_CONCURRENCY)', () => {
  it('gives every run slot of the worker an attempt slot, even on two cores', () => {
    expect(workerConcurrency(2, undefined)).toBe(DEFAULT_WORKER_RUNS);
    expect(workerConcurrency(2, 32)).toBe(32);
    expect(DEFAULT_WORKER_RUNS).toBeGreaterThan(8); // 8 capped a worker below SM-102's 100 runs/s
  });
  it('keeps the CPU count where it is the larger', () => {
    expect(workerConcurrency(64, undefined)).toBe(64);
    expect(workerConcurrency(16, 4)).toBe(16);
  });
});
