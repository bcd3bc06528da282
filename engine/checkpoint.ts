/**
 * Checkpoints across attempts (docs/task-protocol.md, "State"): a task's last `state` message is
 * stored with its attempt's result, and the next attempt of the same task in the same run starts
 * from it. Only the task's own earlier attempts feed it: the lookup is by (run, task), so another
 * task's or another run's state can never reach it, and a succeeded attempt ends the chain (its
 * state was the end of a finished piece of work, not a place to resume from).
 */
import { redactValue } from '../core/index.ts';
import type { AttemptRecord } from './store/store.ts';

/** As the runner's bound (runners/shared MAX_STATE_BYTES): checked again where it is stored. */
export const MAX_STORED_STATE_BYTES = 1 << 20;

/**
 * The checkpoint attempt `attempt` starts from: walking this task's earlier attempts from the
 * latest, the first stored state, unless a succeeded attempt comes first. An attempt that left
 * none (a crash before its messages were read, a task that never checkpointed) falls back to the
 * one before it: resuming from an older checkpoint repeats work, it never skips any.
 */
export function checkpointFor(attempts: readonly AttemptRecord[], attempt: number): string | undefined {
  const earlier = attempts.filter((a) => a.attempt < attempt).sort((a, b) => b.attempt - a.attempt);
  for (const a of earlier) {
    if (a.outcome === 'succeeded' || a.outcome === 'cached') return undefined;
    if (a.state !== null) return a.state;
  }
  return undefined;
}

/**
 * What is stored of a result's state: redacted again with the engine's redactor (every secret of
 * the task, whatever the runner knew), leaf by leaf so no secret survives JSON escaping; null when
 * there is none, or it is not JSON, or it is over the bound (the runner already said so).
 */
export function storedState(state: string | undefined, redact: (text: string) => string): string | null {
  if (state === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(state);
  } catch {
    return null;
  }
  const text = JSON.stringify(redactValue(value, redact));
  return Buffer.byteLength(text) > MAX_STORED_STATE_BYTES ? null : text;
}
