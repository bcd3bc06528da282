/**
 * Time as a task sees it, injected so a unit test runs a task that waits ten minutes in no time
 * (`createFakeClock`). `sleep` ends early, rejecting with the signal's reason, when the signal aborts.
 */
export interface TaskClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: TaskClock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

export interface FakeClock extends TaskClock {
  /** Moves time on, waking (in order) every sleeper whose time has come. */
  advance(ms: number): Promise<void>;
  /** How many sleeps are waiting: a test advances once the task is asleep. */
  readonly sleepers: number;
}

interface Sleeper {
  at: number;
  wake: () => void;
}

export function createFakeClock(start = 0): FakeClock {
  let now = start;
  const sleepers = new Set<Sleeper>();
  return {
    now: () => now,
    get sleepers() {
      return sleepers.size;
    },
    sleep(ms, signal) {
      return new Promise<void>((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const sleeper: Sleeper = {
          at: now + Math.max(0, ms),
          wake: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          sleepers.delete(sleeper);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        sleepers.add(sleeper);
      });
    },
    async advance(ms) {
      now += ms;
      for (const sleeper of [...sleepers].sort((a, b) => a.at - b.at)) {
        if (sleeper.at > now) break;
        sleepers.delete(sleeper);
        sleeper.wake();
        await Promise.resolve(); // let the woken task run before the next sleeper wakes
      }
    },
  };
}
