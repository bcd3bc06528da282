/**
 * Hands an executing run's ready tasks to the scheduler, once the run's source is exported
 * (RunInputs.sourceReady): a task waiting for it holds no slot. Waiting tasks keep the order they
 * became ready in, and a stop or cancel drains them as it drains the scheduler's queue.
 */
import type { RunInputs } from './run-inputs.ts';
import type { Scheduler } from './scheduler.ts';

export class RunHandoff {
  readonly #runId: string;
  readonly #scheduler: Scheduler;
  readonly #inputs: RunInputs;
  readonly #priority: () => number;
  /** False once the execution ended (closing, or given up): nothing more is launched. */
  readonly #live: () => boolean;
  /** Ready tasks waiting for the run's source before they queue for a slot. */
  readonly #awaitingSource = new Set<string>();

  constructor(options: {
    runId: string;
    scheduler: Scheduler;
    inputs: RunInputs;
    priority: () => number;
    live: () => boolean;
  }) {
    this.#runId = options.runId;
    this.#scheduler = options.scheduler;
    this.#inputs = options.inputs;
    this.#priority = options.priority;
    this.#live = options.live;
  }

  enqueue(taskId: string): void {
    const item = { runId: this.#runId, taskId, priority: this.#priority() };
    const ready = this.#inputs.sourceReady();
    if (!ready) return this.#scheduler.enqueue(item);
    this.#awaitingSource.add(taskId);
    void ready.then(() => {
      // Drained meanwhile (a stop, a cancel), or this execution ended: nothing to launch.
      if (!this.#awaitingSource.delete(taskId) || !this.#live()) return;
      this.#scheduler.enqueue(item);
    });
  }

  /** Takes the run's ready tasks out of the scheduler's queue and the source wait; returns them. */
  drain(): string[] {
    const waiting = [...this.#awaitingSource];
    this.#awaitingSource.clear();
    return [...this.#scheduler.drain(this.#runId), ...waiting];
  }
}
