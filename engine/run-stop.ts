/**
 * Stopping an executing run, or one of its tasks: the cancel of a task (queued and ready ones at
 * once, a running one through its runner) and the stop of the whole run (a user's cancel, the
 * run's timeout). Holds the runners' handles and who cancelled what; each step that reads the
 * run's view and stores a transition goes through the run's serial queue.
 */
import { Reason, TaskState, type RunnerHandle, type Stream } from '../core/index.ts';
import type { EngineContext } from './context.ts';
import type { RunView } from './run-view.ts';

export type StopReason = 'cancel_requested' | 'run_timeout';

/** What stopping needs from the run executing (RunExecution hands it over at construction). */
export interface StopHost {
  readonly ctx: EngineContext;
  readonly view: RunView;
  serial<T>(work: () => Promise<T>): Promise<T>;
  transitionTask(taskId: string, to: TaskState, reason: Reason, by: string): Promise<void>;
  runLog(stream: Stream, text: string): Promise<void>;
  /** Takes the run's ready tasks out of the scheduler's queue; returns them. */
  drain(): string[];
  enqueue(taskId: string): void;
  /** The readiness pass (inside the queue). */
  evaluate(): Promise<void>;
  /** True once the run is closing: a stop then changes nothing. */
  finishing(): boolean;
  /** Ends the run's timers (its timeout, retries' waits). */
  abortTimers(): void;
}

export class RunStop {
  readonly #host: StopHost;
  readonly #handles = new Map<string, RunnerHandle>();
  readonly #taskCancels = new Map<string, string>();
  #stop: { by: string; reason: StopReason } | undefined;

  constructor(host: StopHost) {
    this.#host = host;
  }

  get stopping(): { by: string; reason: StopReason } | undefined {
    return this.#stop;
  }

  /** Who is cancelling this task (or the whole run), if anyone. */
  cancelledBy(taskId: string): string | undefined {
    return this.#taskCancels.get(taskId) ?? this.#stop?.by;
  }

  registerHandle(taskId: string, handle: RunnerHandle | undefined): void {
    if (handle) this.#handles.set(taskId, handle);
    else this.#handles.delete(taskId);
  }

  /** Asks every running attempt's runner to stop (the run given up, or stopping). */
  cancelRunners(reason: string): Promise<unknown> {
    const graceMs = this.#host.ctx.graceMs;
    return Promise.allSettled([...this.#handles.values()].map((h) => h.cancel(reason, graceMs)));
  }

  async cancelTask(taskId: string, by: string): Promise<void> {
    const host = this.#host;
    await host.serial(async () => {
      this.#taskCancels.set(taskId, by);
      const t = host.view.task(taskId);
      if (t.state === TaskState.ready) {
        host.drain();
        await host.transitionTask(taskId, TaskState.cancelled, Reason.cancelRequested, by);
        // A task held by its durable timer is not in the queue: its timer enqueues it.
        for (const r of host.view.all())
          if (r.state === TaskState.ready && !host.view.heldByTimer(r.taskId)) host.enqueue(r.taskId);
      } else if (t.state === TaskState.queued) {
        await host.transitionTask(taskId, TaskState.cancelled, Reason.cancelRequested, by);
      }
    });
    await this.#handles.get(taskId)?.cancel('cancel_requested', host.ctx.graceMs);
    await host.serial(() => host.evaluate());
  }

  async stop(by: string, reason: StopReason): Promise<void> {
    const host = this.#host;
    const stopping = await host.serial(async () => {
      if (this.#stop || host.finishing()) return false;
      this.#stop = { by, reason };
      for (const t of host.view.all()) if (t.state === TaskState.queued) host.view.addCandidate(t.taskId);
      // An approval task waiting in this execution (before the run parked) waits no more.
      for (const t of host.view.all())
        if (t.state === TaskState.waitingForApproval)
          await host.transitionTask(t.taskId, TaskState.cancelled, cancelReason(reason), by);
      void host.runLog('system', reason === 'run_timeout' ? 'run timed out' : `cancel requested by ${by}`);
      const drained = new Set(host.drain());
      // The queued ready tasks, and those held by a durable timer (never queued, never launched).
      for (const t of host.view.all())
        if (t.state === TaskState.ready && (drained.has(t.taskId) || host.view.heldByTimer(t.taskId)))
          await host.transitionTask(t.taskId, TaskState.cancelled, cancelReason(reason), by);
      host.abortTimers();
      return true;
    });
    if (!stopping) return;
    await Promise.all([...this.#handles.values()].map((h) => h.cancel(reason, host.ctx.graceMs)));
    await host.serial(() => host.evaluate());
  }
}

function cancelReason(reason: StopReason): Reason {
  return reason === 'run_timeout' ? Reason.runTimeout : Reason.cancelRequested;
}
