import { describe, expect, it } from 'vitest';
import { UsageError } from '../../core/index.ts';
import { wakeupsFrom } from './server-wakeups.ts';

const io = (env: Record<string, string>) => ({
  stdout: () => {},
  stderr: () => {},
  isTty: false,
  env,
  cwd: '/',
});

describe('the worker wake-ups from the environment', () => {
  it('listens by default, polls only with MAESTRO_WAKEUPS=poll, and takes the poll interval', () => {
    expect(wakeupsFrom(io({}))).toEqual({ notifications: true });
    expect(wakeupsFrom(io({ MAESTRO_WAKEUPS: 'poll', MAESTRO_WORKER_POLL_MS: '1000' }))).toEqual({
      notifications: false,
      pollMs: 1000,
    });
  });

  it('refuses a value it does not know, naming the variable', () => {
    expect(() => wakeupsFrom(io({ MAESTRO_WAKEUPS: 'listen' }))).toThrow(UsageError);
    expect(() => wakeupsFrom(io({ MAESTRO_WAKEUPS: 'listen' }))).toThrow(/MAESTRO_WAKEUPS/);
    expect(() => wakeupsFrom(io({ MAESTRO_WORKER_POLL_MS: '5' }))).toThrow(/MAESTRO_WORKER_POLL_MS/);
    expect(() => wakeupsFrom(io({ MAESTRO_WORKER_POLL_MS: '1s' }))).toThrow(UsageError);
  });
});
