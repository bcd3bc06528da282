/**
 * An executing run's in-memory view of its tasks: their last stored records, which of them a
 * readiness pass must look at (candidates), who depends on whom, and how many are still open.
 * RunExecution changes it only after the store accepted a write (store, then act).
 */
import { TaskState, isTerminalTaskState, type PlanTask } from '../core/index.ts';
import type { RunRecord, TaskRecord } from './store/store.ts';

export class RunView {
  readonly #plan: Map<string, PlanTask>;
  readonly #tasks = new Map<string, TaskRecord>();
  /** Tasks whose readiness may have changed; a readiness pass looks only at these (linear runs). */
  readonly #candidates = new Set<string>();
  /** Ready tasks whose durable timer ended in this execution (durable-timer.ts). */
  readonly #timersEnded = new Set<string>();
  readonly #dependants = new Map<string, string[]>();
  /** Tasks not yet in a final state. */
  #open = 0;

  constructor(run: RunRecord) {
    this.#plan = new Map(run.plan.tasks.map((t) => [t.id, t]));
    for (const t of run.plan.tasks)
      for (const need of t.needs) this.#dependants.set(need, [...(this.#dependants.get(need) ?? []), t.id]);
  }

  /** The stored tasks, read when the execution starts: every one is a candidate once. */
  load(tasks: readonly TaskRecord[]): void {
    for (const t of tasks) {
      this.#tasks.set(t.taskId, t);
      this.#candidates.add(t.taskId);
      if (!isTerminalTaskState(t.state)) this.#open++;
    }
  }

  planTask(taskId: string): PlanTask {
    return this.#plan.get(taskId)!;
  }

  task(taskId: string): TaskRecord {
    return this.#tasks.get(taskId)!;
  }

  all(): TaskRecord[] {
    return [...this.#tasks.values()];
  }

  dependantsOf(taskId: string): readonly string[] {
    return this.#dependants.get(taskId) ?? [];
  }

  get open(): number {
    return this.#open;
  }

  addCandidate(taskId: string): void {
    this.#candidates.add(taskId);
  }

  /** The candidates in plan order (topological, then declaration: readiness stays FIFO), cleared. */
  takeCandidates(): string[] {
    const batch = [...this.#candidates].sort((a, b) => this.task(a).position - this.task(b).position);
    this.#candidates.clear();
    return batch;
  }

  hasCandidates(): boolean {
    return this.#candidates.size > 0;
  }

  /** A retry's wait ended: the task is queued without a wait in this view (the store has it so). */
  clearWait(taskId: string): void {
    const t = this.task(taskId);
    if (t.state === TaskState.queued) this.#tasks.set(taskId, { ...t, notBefore: null });
    this.#candidates.add(taskId);
  }

  /**
   * A durable timer ended: the ready task may start (the store keeps its `notBefore` until the
   * attempt's start clears it). False when the task is no longer waiting (cancelled meanwhile).
   */
  timerEnded(taskId: string): boolean {
    if (!this.heldByTimer(taskId)) return false;
    this.#timersEnded.add(taskId);
    return true;
  }

  /** Ready but held by its durable timer: in no scheduler queue, not being launched. */
  heldByTimer(taskId: string): boolean {
    const t = this.task(taskId);
    return t.state === TaskState.ready && t.notBefore !== null && !this.#timersEnded.has(taskId);
  }

  /** A stored transition applied: the open count, and who must be looked at again. */
  applied(next: TaskRecord, from: TaskState): void {
    const to = next.state;
    this.#tasks.set(next.taskId, next);
    if (to === TaskState.ready) this.#timersEnded.delete(next.taskId);
    this.#open += Number(isTerminalTaskState(from)) - Number(isTerminalTaskState(to));
    if (to === TaskState.queued) this.#candidates.add(next.taskId);
    if (isTerminalTaskState(to)) for (const d of this.dependantsOf(next.taskId)) this.#candidates.add(d);
  }
}
