/**
 * A new run's start held back: its `queued -> running` transition and the `ready` transitions of
 * its first tasks are applied to the execution's view at once but stored only with the next
 * write that needs them, normally the first attempt's start, so the three commit in one
 * transaction (one round trip each instead of one transaction each on PostgreSQL). Any other
 * transition of the run carries them the same way.
 *
 * Why this is safe: nothing acts on a held write. A `ready` task only waits for a slot and its
 * attempt's preparation (policy, workspace), and the runner is called only after the attempt's
 * start has committed, with the held writes in the same transaction. A crash before that leaves
 * the run `queued` with its tasks `queued` in the store: the next executor starts it afresh, and
 * nothing ran. Events are published only once the writes are stored.
 */
import { Reason, RunState, TaskState } from '../core/index.ts';
import type { PreparedTransition } from './attempt-host.ts';
import type { EngineContext } from './context.ts';
import type { RunView } from './run-view.ts';
import type { RunOf } from './events.ts';
import type { AttemptStart, RunRecord, RunWrite, TaskPatch, TaskTransitionWrite } from './store/store.ts';
import { afterRunTransition, prepareRunTransition, prepareTaskTransition } from './transitions.ts';

/**
 * The one write path of an execution: every run and task transition and attempt start is
 * asserted, stored (carrying a held start), applied to the run's record and view, then published.
 */
export class RunWriter {
  readonly #ctx: EngineContext;
  readonly #view: RunView;
  #run: RunRecord;
  #writes: { write: RunWrite; emit(): void }[] = [];

  constructor(ctx: EngineContext, run: RunRecord, view: RunView) {
    this.#ctx = ctx;
    this.#run = run;
    this.#view = view;
  }

  /** The run as stored (or held): only this execution changes it while it holds the lease. */
  get run(): RunRecord {
    return this.#run;
  }

  #of(): RunOf {
    const { workflow, namespace, createdAt } = this.#run;
    return { workflow, namespace, createdAt };
  }

  async transitionRun(to: RunState, reason: Reason, by: string): Promise<void> {
    const p = prepareRunTransition(
      this.#ctx,
      this.#run.id,
      this.#run.status,
      to,
      reason,
      by,
      undefined,
      this.#of(),
    );
    await this.#store({ kind: 'run', write: p.write });
    p.emit();
    // No read-back needed: the record as the store's UPDATE leaves it.
    this.#run = afterRunTransition(this.#run, to, reason, p.write.time);
  }

  /** A new run's start (queued -> running), held to be stored with its first attempt's start. */
  holdStart(by: string): void {
    const { started } = Reason;
    const p = prepareRunTransition(
      this.#ctx,
      this.#run.id,
      this.#run.status,
      RunState.running,
      started,
      by,
      undefined,
      this.#of(),
    );
    this.#writes.push({ write: { kind: 'run', write: p.write }, emit: p.emit });
    this.#run = afterRunTransition(this.#run, RunState.running, started, p.write.time);
  }

  async transitionTask(
    taskId: string,
    to: TaskState,
    reason: Reason,
    by: string,
    patch?: TaskPatch,
    detail?: string,
  ): Promise<void> {
    const prepared = this.prepareTransition(taskId, to, reason, by, patch, detail);
    // A durable timer is stored at once (carrying the held start): a restart must find its time;
    // so is a quota's wait (its time is the task's place in the namespace's line).
    const held = (patch?.notBefore ?? null) === null && reason !== Reason.quotaTasks;
    if (this.#writes.length > 0 && to === TaskState.ready && held) {
      // A first task of a held start: ready in the view now, stored with the attempt's start.
      this.#writes.push({ write: { kind: 'task', taskId, write: prepared.write }, emit: prepared.emit });
      return prepared.apply();
    }
    await this.#store({ kind: 'task', taskId, write: prepared.write });
    prepared.commit();
  }

  /**
   * Checks a transition and returns what to store; `commit()` (after the store accepted it)
   * updates the view and publishes the event. Lets a transition share the transaction of an
   * attempt's start or finish.
   */
  prepareTransition(
    taskId: string,
    to: TaskState,
    reason: Reason,
    by: string,
    patch?: TaskPatch,
    detail?: string,
  ): PreparedTransition & { apply(): void; emit(): void } {
    const current = this.#view.task(taskId);
    const prepared = prepareTaskTransition(this.#ctx, current, to, reason, by, patch, detail);
    const apply = () => this.#view.applied(prepared.next, current.state);
    return {
      write: prepared.write,
      apply,
      emit: prepared.emit,
      commit: () => {
        apply();
        prepared.emit();
      },
    };
  }

  storeAttemptStart(start: AttemptStart, transition: TaskTransitionWrite): Promise<number> {
    return this.#store({ kind: 'attempt', start, transition }) as Promise<number>;
  }

  /** One write, carrying the held ones when there are any; an attempt's token. */
  async #store(w: RunWrite): Promise<number | undefined> {
    const store = this.#ctx.store;
    const runId = this.#run.id;
    if (this.#writes.length > 0) return (await this.#commitWith(w))[0];
    if (w.kind === 'attempt') return store.startAttempt(w.start, w.transition);
    if (w.kind === 'task') {
      const t = w.write;
      await store.transitionTask(runId, w.taskId, t.from, t.to, t.reason, t.by, t.time, t.patch, t.detail);
    } else {
      const t = w.write;
      await store.transitionRun(runId, t.from, t.to, t.reason, t.by, t.time, t.patch);
    }
    return undefined;
  }

  /**
   * Stores the held writes and then `w` in one transaction, then publishes the held ones; the
   * attempts' tokens. On a refusal nothing was stored and the writes stay held.
   */
  async #commitWith(w: RunWrite): Promise<number[]> {
    const held = this.#writes;
    this.#writes = [];
    let tokens: number[];
    try {
      tokens = await this.#ctx.store.commitRunWrites(this.#run.id, [...held.map((h) => h.write), w]);
    } catch (error) {
      this.#writes = [...held, ...this.#writes];
      throw error;
    }
    for (const h of held) h.emit();
    return tokens;
  }
}
