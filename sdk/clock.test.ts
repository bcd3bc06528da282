import { describe, expect, it } from 'vitest';
import { createFakeClock, systemClock } from './index.ts';

describe('the clocks a task is given', () => {
  it('systemClock.sleep resolves, and rejects with the reason when the signal aborts (before or during)', async () => {
    await expect(systemClock.sleep(1)).resolves.toBeUndefined();
    const before = new AbortController();
    before.abort(new Error('already stopped'));
    await expect(systemClock.sleep(60_000, before.signal)).rejects.toThrow('already stopped');
    const during = new AbortController();
    const sleeping = systemClock.sleep(60_000, during.signal);
    during.abort(new Error('stopped'));
    await expect(sleeping).rejects.toThrow('stopped');
    expect(typeof systemClock.now()).toBe('number');
  });

  it('the fake clock wakes sleepers in time order and not before their time; an aborted signal rejects at once', async () => {
    const clock = createFakeClock(100);
    const woke: string[] = [];
    void clock.sleep(20).then(() => woke.push('b'));
    void clock.sleep(10).then(() => woke.push('a'));
    await clock.advance(15);
    expect(woke).toEqual(['a']);
    await clock.advance(5);
    expect(woke).toEqual(['a', 'b']);
    expect(clock.now()).toBe(120);
    const aborted = new AbortController();
    aborted.abort(new Error('no'));
    await expect(clock.sleep(1, aborted.signal)).rejects.toThrow('no');
    expect(clock.sleepers).toBe(0);
  });
});
