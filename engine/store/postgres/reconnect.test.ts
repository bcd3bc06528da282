import { describe, expect, it } from 'vitest';
import { brokenConnection, safeToRetry, stalePlan } from './reconnect.ts';

const withCode = (code?: string) => Object.assign(new Error('x'), code === undefined ? {} : { code });

describe('which PostgreSQL failures are the connection', () => {
  it('counts a lost socket however pg reports it', () => {
    // Found by the restart drill: "read ECONNRESET" blocked a task instead of giving the run up.
    for (const code of [undefined, 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '08006', '08003', '57P01'])
      expect(brokenConnection(withCode(code)), String(code)).toBe(true);
  });

  it('leaves statement errors alone: the connection is fine and the error is the answer', () => {
    for (const code of ['23505', '42P01', '40001', 'P0001', '22P02'])
      expect(brokenConnection(withCode(code)), code).toBe(false);
  });

  it('retries only what certainly did not take effect', () => {
    expect(safeToRetry(withCode('57P01'))).toBe(true);
    expect(safeToRetry(withCode('40001'))).toBe(true);
    // Ambiguous: a COMMIT may have landed before the socket went.
    expect(safeToRetry(withCode('ECONNRESET'))).toBe(false);
    expect(safeToRetry(withCode(undefined))).toBe(false);
  });

  it('counts a plan a migration made stale as retryable on another connection, no other 0A000', () => {
    const stale = Object.assign(new Error('cached plan must not change result type'), { code: '0A000' });
    expect([stalePlan(stale), safeToRetry(stale), brokenConnection(stale)]).toEqual([true, true, true]);
    const other = Object.assign(new Error('LOCK TABLE is not supported here'), { code: '0A000' });
    expect([stalePlan(other), safeToRetry(other), brokenConnection(other)]).toEqual([false, false, false]);
  });
});
