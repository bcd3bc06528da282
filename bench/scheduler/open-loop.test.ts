import { describe, expect, it } from 'vitest';
import { openLoopSchedule, runOpenLoop, type LoopClock } from './open-loop.ts';

/** A clock that only moves when the loop sleeps, or when a send "takes" time. */
function fakeClock(): LoopClock & { advance(ms: number): void } {
  let now = 1_000;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
    advance: (ms) => {
      now += ms;
    },
  };
}

describe('openLoopSchedule', () => {
  it('spaces rate × seconds sends 1000/rate ms apart from 0', () => {
    expect(openLoopSchedule(4, 1)).toEqual([0, 250, 500, 750]);
    expect(openLoopSchedule(100, 60)).toHaveLength(6000);
    expect(openLoopSchedule(100, 60).at(-1)).toBeCloseTo(59_990);
  });

  it('refuses a rate or duration that is not positive', () => {
    expect(() => openLoopSchedule(0, 10)).toThrow(RangeError);
    expect(() => openLoopSchedule(10, -1)).toThrow(RangeError);
  });
});

describe('runOpenLoop', () => {
  it('sends on schedule without waiting for answers that never come quickly', async () => {
    const clock = fakeClock();
    const sentAt: number[] = [];
    const answers: (() => void)[] = [];
    const done = runOpenLoop(
      [0, 10, 20, 30],
      (i) => {
        sentAt.push(clock.now());
        // No answer until every request has been sent: a closed loop would stall at the first.
        return new Promise<number>((resolve) => answers.push(() => resolve(i)));
      },
      clock,
    );
    await new Promise((r) => setTimeout(r, 0));
    expect(sentAt).toEqual([1_000, 1_010, 1_020, 1_030]);
    clock.advance(500);
    for (const answer of answers) answer();
    const sent = await done;
    expect(sent.map((s) => s.result)).toEqual([0, 1, 2, 3]);
    // Latency counts from the scheduled time: the first request waited 530 ms for its answer.
    expect(sent[0]!.doneAt - sent[0]!.scheduledAt).toBe(530);
  });

  it('keeps the scheduled time of a send that went out late (no coordinated omission)', async () => {
    const clock = fakeClock();
    const sent = await runOpenLoop(
      [0, 10, 20],
      async (i) => {
        if (i === 0) clock.advance(25); // the first send blocked the sender for 25 ms
        return i;
      },
      clock,
    );
    expect(sent.map((s) => s.scheduledAt)).toEqual([1_000, 1_010, 1_020]);
    // The two overdue sends left together at once, not 10 ms apart from the late moment.
    expect(sent.map((s) => s.sentAt)).toEqual([1_000, 1_025, 1_025]);
    expect(sent[1]!.doneAt - sent[1]!.scheduledAt).toBe(15);
  });

  it('records a failed send as an error, not as a latency', async () => {
    const clock = fakeClock();
    const sent = await runOpenLoop(
      [0, 5],
      async (i) => {
        if (i === 1) throw new Error('503');
        return 'ok';
      },
      clock,
    );
    expect(sent[0]!.result).toBe('ok');
    expect(sent[1]!.result).toBeUndefined();
    expect((sent[1]!.error as Error).message).toBe('503');
  });
});
