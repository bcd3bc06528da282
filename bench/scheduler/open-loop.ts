/**
 * An open-loop load generator: send times are fixed in advance (one every 1000/rate ms) and a
 * request is sent at its time whether or not earlier ones were answered. Latency is measured from
 * the *scheduled* send time, so a sender or a server that falls behind shows up in the figures
 * instead of silently sending less (coordinated omission, which a closed loop of "send, await,
 * send" suffers from). Written here rather than taken from a load-testing library: those are
 * closed loop (autocannon) or a separate tool (k6, wrk2), and the bench must read the stored
 * times of each run it sent.
 */

export interface LoopClock {
  /** Milliseconds on a monotonic-enough epoch scale (the bench uses timeOrigin + performance.now()). */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemLoopClock: LoopClock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Offsets (ms from the start) of `rate` sends per second for `seconds` seconds. */
export function openLoopSchedule(rate: number, seconds: number): number[] {
  if (!(rate > 0) || !(seconds > 0)) throw new RangeError(`rate ${rate} and seconds ${seconds} must be > 0`);
  const count = Math.round(rate * seconds);
  return Array.from({ length: count }, (_, i) => (i * 1000) / rate);
}

export interface Sent<T> {
  index: number;
  /** When the request was due (clock ms). */
  scheduledAt: number;
  /** When it actually left (≥ scheduledAt; the gap is the sender's own lateness). */
  sentAt: number;
  /** When `send` settled. */
  doneAt: number;
  result?: T;
  error?: unknown;
}

/**
 * Calls `send(index, scheduledAt)` at `start + offsets[index]` for every offset, never awaiting
 * one send before the next is due. A send that is late (the event loop was busy) goes out at
 * once, with its scheduled time kept. Resolves when every send has settled.
 */
export async function runOpenLoop<T>(
  offsets: readonly number[],
  send: (index: number, scheduledAt: number) => Promise<T>,
  clock: LoopClock = systemLoopClock,
): Promise<Sent<T>[]> {
  const start = clock.now();
  const inFlight: Promise<Sent<T>>[] = [];
  const fire = (index: number) => {
    const scheduledAt = start + offsets[index]!;
    const sentAt = clock.now();
    inFlight.push(
      send(index, scheduledAt).then(
        (result) => ({ index, scheduledAt, sentAt, doneAt: clock.now(), result }),
        (error: unknown) => ({ index, scheduledAt, sentAt, doneAt: clock.now(), error }),
      ),
    );
  };
  let next = 0;
  while (next < offsets.length) {
    const wait = start + offsets[next]! - clock.now();
    if (wait > 0) await clock.sleep(wait);
    // Everything due by now goes out together (a late timer must not shift the schedule).
    while (next < offsets.length && start + offsets[next]! <= clock.now()) fire(next++);
  }
  return Promise.all(inFlight);
}
