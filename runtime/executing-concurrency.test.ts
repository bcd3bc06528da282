import { describe, expect, it } from 'vitest';
import { runtimeConfigFromEnv } from './config-from-env.ts';
import { DEFAULT_WORKER_RUNS, withExecutingConcurrency, workerConcurrency } from './executing-concurrency.ts';

describe('workerConcurrency (a worker or the App without --concurrency / MAESTRO_CONCURRENCY)', () => {
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

describe('withExecutingConcurrency', () => {
  const read = (env: Record<string, string>) =>
    runtimeConfigFromEnv({ MAESTRO_DATA_DIR: '/tmp/maestro-slots', ...env }, { cwd: '/tmp' });
  it('fills in the slots only where the configuration names none', () => {
    expect(read({}).concurrency).toBeUndefined();
    expect(withExecutingConcurrency(read({}), 2).concurrency).toBe(DEFAULT_WORKER_RUNS);
    expect(withExecutingConcurrency(read({ MAESTRO_WORKER_RUNS: '50' }), 2).concurrency).toBe(50);
    expect(withExecutingConcurrency(read({ MAESTRO_CONCURRENCY: '3' }), 2).concurrency).toBe(3);
  });
});
