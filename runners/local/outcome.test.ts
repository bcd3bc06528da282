import { describe, expect, it } from 'vitest';
import { outcomeOf } from './outcome.ts';

describe('outcomeOf', () => {
  const sandboxStatus = { kind: 'exited' as const, exitCode: 137, signal: null };

  it('a cancel that escalated to SIGKILL reports SIGKILL, even as the sandbox’s exit 137', () => {
    const result = outcomeOf(sandboxStatus, { timedOut: false, cancelled: 'stop', killed: true });
    expect(result).toMatchObject({
      outcome: 'cancelled',
      signal: 'SIGKILL',
      exitCode: 137,
      retryable: false,
    });
  });

  it('a timeout past its grace likewise; without our SIGKILL no signal is invented', () => {
    expect(
      outcomeOf(sandboxStatus, { timedOut: true, timeoutMs: 5, cancelled: undefined, killed: true }),
    ).toMatchObject({
      outcome: 'timed_out',
      signal: 'SIGKILL',
    });
    expect(outcomeOf(sandboxStatus, { timedOut: false, cancelled: 'stop' })).not.toHaveProperty('signal');
    expect(outcomeOf(sandboxStatus, { timedOut: false, cancelled: undefined })).toMatchObject({
      outcome: 'failed',
      exitCode: 137,
      reason: 'NonZeroExit',
    });
  });

  it('the signal the process reports wins', () => {
    const ended = { kind: 'exited' as const, exitCode: null, signal: 'SIGTERM' };
    expect(outcomeOf(ended, { timedOut: false, cancelled: 'stop', killed: true })).toMatchObject({
      signal: 'SIGTERM',
    });
  });
});
