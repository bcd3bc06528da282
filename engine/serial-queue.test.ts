import { describe, expect, it } from 'vitest';
import { SerialQueue } from './serial-queue.ts';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SerialQueue', () => {
  it('runs one piece at a time, in the order asked, even when each awaits', async () => {
    const queue = new SerialQueue();
    const trace: string[] = [];
    let inside = 0;
    let most = 0;
    const piece = (name: string, turns: number) => async () => {
      inside++;
      most = Math.max(most, inside);
      trace.push(`${name} in`);
      for (let i = 0; i < turns; i++) await tick();
      trace.push(`${name} out`);
      inside--;
      return name;
    };
    const results = await Promise.all([
      queue.run(piece('a', 3)),
      queue.run(piece('b', 0)),
      queue.run(piece('c', 1)),
    ]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(most).toBe(1);
    expect(trace).toEqual(['a in', 'a out', 'b in', 'b out', 'c in', 'c out']);
  });

  it('hands a failure to its caller and still runs what was queued after it', async () => {
    const queue = new SerialQueue();
    const failed = queue.run(async () => {
      await tick();
      throw new Error('store refused');
    });
    const next = queue.run(async () => 'ran');
    await expect(failed).rejects.toThrow('store refused');
    await expect(next).resolves.toBe('ran');
  });

  it('idle() settles once everything queued so far has ended', async () => {
    const queue = new SerialQueue();
    let done = false;
    void queue.run(async () => {
      await tick();
      await tick();
      done = true;
    });
    await queue.idle();
    expect(done).toBe(true);
  });
});
