/**
 * The asynchronous Store port: the same methods and semantics as `Store` (store.ts), each
 * returning a promise, plus the one operation replicas need that a single engine does not
 * (`claimReadyTask`). PostgreSQL implements it natively; the embedded SQLite store satisfies it
 * through `AsyncSqliteStore`. The engine runs on this port (engine/store/README.md says why).
 */
import type { AttemptStart, Store, TaskTransitionWrite } from './store.ts';

type Method = Exclude<keyof Store, 'location'>;

/** Every method of `Store`, with its result wrapped in a promise. */
export type AsyncStoreMethods = {
  [K in Method]: (...args: Parameters<Store[K]>) => Promise<Awaited<ReturnType<Store[K]>>>;
};

/** A task claimed by a worker: the task's `task:<run>/<task>` lease and its fencing token. */
export interface TaskClaim {
  runId: string;
  taskId: string;
  owner: string;
  token: number;
  expiresAt: number;
}

export interface AsyncStore extends AsyncStoreMethods {
  readonly location: string;
  /**
   * Claims the most urgent ready task (run priority, then run age, then plan position) whose
   * `notBefore` has passed and whose claim lease is free or expired, taking that lease for
   * `leaseMs` with a fresh fencing token. Two concurrent callers never receive the same task while
   * its lease is live. Null when nothing is ready.
   */
  claimReadyTask(owner: string, now: number, leaseMs: number): Promise<TaskClaim | null>;
  /**
   * `startAttempt` for a claimed task, fenced by the claim: refused with LeaseLostError (nothing
   * written) unless `claim.token` is still the current, unexpired token of the task's claim
   * lease at `start.startedAt`. A worker that was paused past its claim cannot start the task a
   * newer claimer holds.
   */
  startClaimedAttempt(
    claim: TaskClaim,
    start: AttemptStart,
    transition?: TaskTransitionWrite,
  ): Promise<number>;
}

/** The name of a task's claim lease (shared by both stores so `getLease` finds it). */
export const taskLeaseName = (runId: string, taskId: string): string => `task:${runId}/${taskId}`;

/** The method names of `Store`; `satisfies` keeps the list complete as the port grows. */
export const storeMethods = [
  'createRun',
  'getRun',
  'listRuns',
  'transitionRun',
  'requestRunCancel',
  'runCancelRequestedBy',
  'clearRunCancel',
  'listTasks',
  'getTask',
  'transitionTask',
  'listTransitions',
  'startAttempt',
  'heartbeat',
  'finishAttempt',
  'interruptAttempt',
  'listAttempts',
  'taskOutputs',
  'appendLogs',
  'listLogs',
  'getCacheEntry',
  'putCacheEntry',
  'putReceipt',
  'listReceipts',
  'acquireLease',
  'getLease',
  'releaseLease',
  'close',
] as const satisfies readonly Method[];

// A compile-time check that no method of `Store` is missing from the list above.
type Missing = Exclude<Method, (typeof storeMethods)[number]>;
export const storeMethodsComplete: [Missing] extends [never] ? true : Missing = true;
