/**
 * The in-memory side of an executing run's timers: its timeout, a retry's wait (a queued task
 * with a stored `notBefore`), a durable timer (a ready task held until `notBefore`:
 * durable-timer.ts) and a tasks quota's wait (quota-wait.ts). What a timer waits for is stored
 * first; these only wake the run when it is due, so a restart re-arms them from the store
 * (`arm` on resume) and neither loses nor restarts one. One abort ends them all (a stop, a close).
 */
import { TaskState, describeError, type Stream } from '../core/index.ts';
import type { EngineContext } from './context.ts';
import type { RunView } from './run-view.ts';

/** What the timers need from the run executing (RunExecution hands it over at construction). */
export interface TimerHost {
  readonly ctx: EngineContext;
  readonly view: RunView;
  serial<T>(work: () => Promise<T>): Promise<T>;
  /** Hands a ready task to the scheduler (inside the queue). */
  enqueue(taskId: string): void;
  /** The readiness pass (inside the queue). */
  evaluate(): Promise<void>;
  runLog(stream: Stream, text: string): Promise<void>;
}

export class RunTimers {
  readonly #host: TimerHost;
  readonly #abort = new AbortController();

  constructor(host: TimerHost) {
    this.#host = host;
  }

  /** Ends every timer: a stopping or closing run cancels what they held itself. */
  abort(): void {
    this.#abort.abort();
  }

  /** Calls `due` once the run's timeout (counted from `from`) has passed, unless aborted first. */
  armRunTimeout(from: number, timeoutMs: number, due: () => void): void {
    const { clock } = this.#host.ctx;
    const remaining = from + timeoutMs - clock.now();
    clock.sleep(Math.max(0, remaining), this.#abort.signal).then(due, () => undefined);
  }

  /**
   * Arms the task's stored timer, if it has one: a retry's wait (queued) or a durable timer
   * (ready, reason waiting_until). Called when the timer is stored and again on resume.
   */
  arm(taskId: string): void {
    const t = this.#host.view.task(taskId);
    if (t.notBefore === null) return;
    if (t.state === TaskState.queued) this.#waitForRetry(taskId, t.notBefore);
    else if (t.state === TaskState.ready) this.#waitForTimer(taskId, t.notBefore);
  }

  /** Launches the ready task again after `ms` (a tasks quota's wait). */
  quotaWait(taskId: string, ms: number): void {
    // Aborted (the run is stopping or closing): stop() cancels ready tasks itself.
    const again = this.#inQueue(async () => {
      if (this.#host.view.task(taskId).state === TaskState.ready) this.#host.enqueue(taskId);
    });
    this.#host.ctx.clock.sleep(ms, this.#abort.signal).then(again, () => undefined);
  }

  #waitForTimer(taskId: string, notBefore: number): void {
    // Aborted (the run is stopping or closing): stop() cancels timer-held tasks itself.
    const due = this.#inQueue(async () => {
      if (this.#host.view.timerEnded(taskId)) this.#host.enqueue(taskId);
    });
    this.#host.ctx.clock.sleep(this.#until(notBefore), this.#abort.signal).then(due, () => undefined);
  }

  #waitForRetry(taskId: string, notBefore: number): void {
    // Either way (the wait ended, or a cancel or timeout aborted it) the task is looked at again:
    // queued without a wait it becomes ready, or is cancelled by the readiness pass.
    const reconsider = this.#inQueue(async () => {
      this.#host.view.clearWait(taskId);
      await this.#host.evaluate();
    });
    this.#host.ctx.clock.sleep(this.#until(notBefore), this.#abort.signal).then(reconsider, reconsider);
  }

  #until(notBefore: number): number {
    return Math.max(0, notBefore - this.#host.ctx.clock.now());
  }

  /** `work` as a timer's callback: in the run's queue, a failure said on the run's log. */
  #inQueue(work: () => Promise<void>): () => void {
    return () =>
      void this.#host
        .serial(work)
        .catch(
          (error: unknown) => void this.#host.runLog('system', `internal error: ${describeError(error)}`),
        );
  }
}
