/**
 * RunLog.hold: an attempt's last lines keep their place in the run's order while they wait for the
 * result's transaction, and are stored alone when that write is refused or does not come soon.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RunLog, tailHoldMs } from './run-log.ts';
import type { EngineContext } from './context.ts';
import type { StoredLogLine } from './store/store.ts';

/** A RunLog over a store that records each appendLogs call (its texts). */
function recordingLog(): { log: RunLog; calls: string[][] } {
  const calls: string[][] = [];
  const ctx = {
    clock: { now: () => 1000 },
    redactAll: (text: string) => text,
    emit: () => undefined,
    logger: { error: () => undefined },
    store: {
      appendLogs: async (lines: StoredLogLine[]) => {
        calls.push(lines.map((l) => l.text));
      },
    },
  } as unknown as EngineContext;
  return { log: new RunLog(() => ctx, 'r1'), calls };
}

const line = (text: string): StoredLogLine => ({
  runId: 'r1',
  taskId: 'a',
  attempt: 1,
  stream: 'stdout',
  time: 1000,
  text,
});

describe('RunLog.hold', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hands the lines over after the earlier ones are stored, and holds later lines until settled', async () => {
    const { log, calls } = recordingLog();
    void log.append([line('earlier')]);
    const held = log.hold([line('last')]);
    const later = log.line('a', 1, 'system', 'after');
    expect(await held.take()).toEqual([line('last')]);
    expect(calls).toEqual([['earlier']]);
    await held.settle(true); // stored with the result: not again
    await later;
    await log.idle();
    expect(calls).toEqual([['earlier'], ['after']]);
  });

  it('stores the lines alone, in their place, when the write carrying them is refused', async () => {
    const { log, calls } = recordingLog();
    const held = log.hold([line('last')]);
    const later = log.line('a', 1, 'system', 'after');
    expect(await held.take()).toEqual([line('last')]);
    await held.settle(false);
    await later;
    expect(calls).toEqual([['last'], ['after']]);
  });

  it(`stores the lines alone when no write takes them within ${tailHoldMs} ms; a late take gets none`, async () => {
    vi.useFakeTimers();
    const { log, calls } = recordingLog();
    const held = log.hold([line('last')]);
    await vi.advanceTimersByTimeAsync(tailHoldMs - 1);
    expect(calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([['last']]);
    expect(await held.take()).toEqual([]);
    await held.settle(true); // a no-op: they were stored already
    await log.line('a', 1, 'system', 'after');
    expect(calls).toEqual([['last'], ['after']]);
  });
});
