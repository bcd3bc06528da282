/** Retry decisions: exponential backoff with optional full jitter, bounded by limit and maxDuration. */
import type { RandomSource, RetryPolicy } from '../core/index.ts';

/** The un-jittered wait before retry number `n` (1-based): initial × factor^(n-1), capped at max. */
export function backoffCeiling(policy: RetryPolicy, n: number): number {
  const { initialMs, factor, maxMs } = policy.backoff;
  return Math.min(maxMs, initialMs * Math.pow(factor, n - 1));
}

/** The wait before retry `n`: full jitter draws uniformly between 0 and the ceiling. */
export function retryDelay(policy: RetryPolicy, n: number, random: RandomSource): number {
  const ceiling = backoffCeiling(policy, n);
  return policy.jitter === 'full' ? Math.floor(random() * ceiling) : ceiling;
}

export interface RetryQuestion {
  policy: RetryPolicy;
  /** Attempts made so far (the failed one included). */
  attempts: number;
  retryable: boolean;
  firstStartedAt: number;
  now: number;
}

/** Returns the delay before the next attempt, or undefined when no retry is allowed. */
export function nextRetry(q: RetryQuestion, random: RandomSource): number | undefined {
  if (!q.retryable) return undefined;
  const retriesDone = q.attempts - 1;
  if (retriesDone >= q.policy.limit) return undefined;
  const delay = retryDelay(q.policy, retriesDone + 1, random);
  const maxDuration = q.policy.backoff.maxDurationMs;
  if (maxDuration !== undefined && q.now + delay - q.firstStartedAt > maxDuration) return undefined;
  return delay;
}
