/**
 * Engine-wide slots: a priority queue of ready tasks across runs, an overall concurrency limit
 * and a per-run limit. Runs hand their ready tasks here; the scheduler calls back to launch them.
 */
import { ReadyQueue, type QueueItem } from './ready-queue.ts';

export interface Launcher {
  launch(taskId: string): Promise<void>;
}

export class Scheduler {
  readonly #queue = new ReadyQueue();
  readonly #concurrency: number;
  readonly #perRun: number;
  readonly #runningByRun = new Map<string, number>();
  readonly #launchers = new Map<string, Launcher>();
  #running = 0;

  constructor(concurrency: number, perRunConcurrency: number) {
    this.#concurrency = Math.max(1, concurrency);
    this.#perRun = Math.max(1, perRunConcurrency);
  }

  attach(runId: string, launcher: Launcher): void {
    this.#launchers.set(runId, launcher);
  }

  detach(runId: string): QueueItem[] {
    this.#launchers.delete(runId);
    return this.#queue.removeRun(runId);
  }

  enqueue(item: QueueItem): void {
    this.#queue.push(item);
    this.#pump();
  }

  /** Drops a run's queued items (cancel); returns the task ids removed. */
  drain(runId: string): string[] {
    return this.#queue.removeRun(runId).map((i) => i.taskId);
  }

  #pump(): void {
    while (this.#running < this.#concurrency) {
      const item = this.#queue.take((i) => (this.#runningByRun.get(i.runId) ?? 0) < this.#perRun);
      if (!item) return;
      const launcher = this.#launchers.get(item.runId);
      if (!launcher) continue;
      this.#running++;
      this.#runningByRun.set(item.runId, (this.#runningByRun.get(item.runId) ?? 0) + 1);
      void launcher.launch(item.taskId).finally(() => {
        this.#running--;
        this.#runningByRun.set(item.runId, (this.#runningByRun.get(item.runId) ?? 1) - 1);
        this.#pump();
      });
    }
  }
}
