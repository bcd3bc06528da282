/**
 * Waiting, after a task's exit, for the rest of its log stream. A container engine ends an attach
 * stream once it has copied the task's last output, which on a loaded machine can take seconds:
 * the container runner once waited 2 s and then dropped whatever had not arrived, silently (a test
 * under six parallel files counted 7 of the 9 or more lines its tasks print). Bounded so that a
 * stream that never ends cannot hang the attempt; at the bound the attempt's log says its last
 * lines may be missing (logCutOff), so a lost tail is never silent.
 */
import type { Clock } from '../../core/index.ts';

/** The container runner's bound: Podman's attach stream ends once the last output is copied. */
export const LOG_DRAIN_MS = 30_000;

/** The `system` line of an attempt whose log stream had not ended `ms` after the task's exit. */
export function logCutOff(ms: number): string {
  return `the log stream did not end within ${ms / 1000} s of the task's exit: its last lines may be missing`;
}

/** True when `ended` settled within `ms`; the timer is cleared either way. */
export async function logStreamDrained(
  ended: Promise<void>,
  clock: Clock,
  ms = LOG_DRAIN_MS,
): Promise<boolean> {
  const stop = new AbortController();
  try {
    return await Promise.race([
      ended.then(
        () => true,
        () => true,
      ),
      clock.sleep(ms, stop.signal).then(
        () => false,
        () => true,
      ),
    ]);
  } finally {
    stop.abort();
  }
}
