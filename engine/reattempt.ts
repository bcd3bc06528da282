/**
 * Re-attempts: a new attempt for a task whose attempt was lost to a crash of the engine or
 * worker running it. They are told apart from retries by the stored transitions alone (a
 * `running → queued` transition with reason `reattempt_scheduled`), so the count survives any
 * number of further crashes and a receipt signed late (attestMissingReceipts) names the same
 * origin as one signed at once. Pure: callers pass what the store holds.
 */
import { Reason, TaskState } from '../core/index.ts';
import type { AttemptRecord, TransitionRecord } from './store/store.ts';

/** What a re-attempt's receipt says about the attempt it replaces (MaestroAttemptFields.reattemptOf). */
export interface ReattemptOrigin {
  attempt: number;
  attemptId: string;
  interruptedBy: string;
  /** Which re-attempt of the task (since its last user retry) this is, 1-based. */
  reattempt: number;
}

const isReattempt = (t: TransitionRecord) =>
  t.from === TaskState.running && t.to === TaskState.queued && t.reason === Reason.reattemptScheduled;

/** Re-attempts a task has had since its last user retry (a person's retry gives it the cap again). */
export function reattemptsSinceUserRetry(transitions: readonly TransitionRecord[]): number {
  let count = 0;
  for (const t of transitions) {
    if (t.reason === Reason.retriedByUser) count = 0;
    else if (isReattempt(t)) count++;
  }
  return count;
}

/**
 * Why attempt `attempt` of a task ran, when it was a re-attempt: the transitions of that task (in
 * stored order) and its attempts. Every attempt starts with exactly one `→ running` transition,
 * so the n-th of them started attempt n; the attempt is a re-attempt when the transition that
 * queued it last was a re-attempt's.
 */
export function reattemptOrigin(
  transitions: readonly TransitionRecord[],
  attempts: readonly AttemptRecord[],
  attempt: number,
): ReattemptOrigin | undefined {
  let started = 0;
  let lastQueued: TransitionRecord | undefined;
  let count = 0;
  for (const t of transitions) {
    if (t.reason === Reason.retriedByUser) count = 0;
    // A resume puts a `ready` task back to `queued` (reason `resumed`): not what queued the attempt.
    if (t.to === TaskState.queued && t.from !== TaskState.ready) {
      lastQueued = t;
      if (isReattempt(t)) count++;
    }
    if (t.to !== TaskState.running) continue;
    started++;
    if (started === attempt) break;
  }
  if (started !== attempt || !lastQueued || !isReattempt(lastQueued)) return undefined;
  const previous = attempts.find((a) => a.attempt === attempt - 1);
  if (!previous || previous.outcome !== 'interrupted') return undefined;
  return {
    attempt: previous.attempt,
    attemptId: previous.id,
    interruptedBy: previous.message ?? 'interrupted',
    reattempt: count,
  };
}
