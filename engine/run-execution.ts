/**
 * One run being executed by this engine instance: decides which tasks become ready, skipped or
 * cancelled, hands ready tasks to the scheduler, applies retries, and closes the run. Every
 * transition is asserted legal and stored before anything acts on it.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Span } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  Reason,
  RunState,
  TaskState,
  describeError,
  isSuccessfulTaskState,
  isTerminalRunState,
  isTerminalTaskState,
  isPolicyOff,
  type PlanTask,
  type RunnerHandle,
  type Stream,
} from '../core/index.ts';
import { evaluateCondition } from '../compiler/index.ts';
import type { EngineContext } from './context.ts';
import { scopeFor, type DispatchContext } from './dispatch.ts';
import { SourceUnavailableError } from './errors.ts';
import { nextRetry } from './retry.ts';
import { recoverInterrupted, type Reattached } from './recover-run.ts';
import { attestMissingReceipts, continueAttempt, runAttempt } from './run-attempt.ts';
import type { Scheduler } from './scheduler.ts';
import { prepareTaskTransition, storeTaskWrite, transitionRun } from './transitions.ts';
import type { RunRecord, TaskPatch, TaskRecord } from './store/store.ts';
import { attestRunEnd } from './attest.ts';
import type { AttemptHost, PreparedTransition } from './attempt-host.ts';

const failedStates: ReadonlySet<TaskState> = new Set([
  TaskState.failed,
  TaskState.timedOut,
  TaskState.cancelled,
  TaskState.blockedByPolicy,
]);

export class RunExecution implements AttemptHost {
  readonly ctx: EngineContext;
  readonly runId: string;
  readonly #scheduler: Scheduler;
  readonly #plan: Map<string, PlanTask>;
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #handles = new Map<string, RunnerHandle>();
  readonly #taskCancels = new Map<string, string>();
  readonly #timers = new AbortController();
  #run: RunRecord;
  #stop: { by: string; reason: 'cancel_requested' | 'run_timeout' } | undefined;
  #span: Span | undefined;
  #finish!: (run: RunRecord) => void;
  readonly done: Promise<RunRecord>;
  #finishing = false;
  /** Attempts still being processed (their receipts may not be stored yet). */
  #inFlight = 0;
  /** Deferred work (receipts being signed) not yet settled; the run waits for it before closing. */
  #deferred = 0;
  /** Tasks whose readiness may have changed; evaluate() looks only at these (linear runs). */
  readonly #candidates = new Set<string>();
  readonly #dependants = new Map<string, string[]>();
  /** Tasks not yet in a final state. */
  #open = 0;

  constructor(ctx: EngineContext, run: RunRecord, scheduler: Scheduler) {
    this.ctx = ctx;
    this.runId = run.id;
    this.#run = run;
    this.#scheduler = scheduler;
    this.#plan = new Map(run.plan.tasks.map((t) => [t.id, t]));
    for (const t of run.plan.tasks)
      for (const need of t.needs) this.#dependants.set(need, [...(this.#dependants.get(need) ?? []), t.id]);
    this.done = new Promise((resolve) => (this.#finish = resolve));
  }

  get run(): RunRecord {
    return this.#run;
  }

  get stopping(): { by: string; reason: string } | undefined {
    return this.#stop;
  }

  planTask(taskId: string): PlanTask {
    return this.#plan.get(taskId)!;
  }

  task(taskId: string): TaskRecord {
    return this.#tasks.get(taskId)!;
  }

  allTasks(): TaskRecord[] {
    return [...this.#tasks.values()];
  }

  taskCancelledBy(taskId: string): string | undefined {
    return this.#taskCancels.get(taskId) ?? this.#stop?.by;
  }

  #sourceExport: Promise<string | undefined> | undefined;

  /** The run's read-only source export, made once per run (undefined: the run has no source). */
  sourceExport(): Promise<string | undefined> {
    const source = this.#run.source;
    if (!source) return Promise.resolve(undefined);
    const fetcher = this.ctx.source;
    if (!fetcher) return Promise.reject(new SourceUnavailableError(source.repo));
    // A failed export is not memoised: the next attempt (a retry, a resume) tries again.
    this.#sourceExport ??= fetcher.export(source).then(
      (dir) => {
        this.runLog('system', `source: ${source.repo} at ${source.commit}`);
        return dir;
      },
      (error: unknown) => {
        this.#sourceExport = undefined;
        throw error;
      },
    );
    return this.#sourceExport;
  }

  dispatchContext(): DispatchContext {
    return {
      runId: this.runId,
      workflow: { name: this.#run.workflow, namespace: this.#run.namespace },
      params: this.#run.params,
      secrets: this.ctx.secrets,
      outputsOf: (id) => this.ctx.store.taskOutputs(this.runId, id),
      declaredIdOf: (id) => this.planTask(id).declaredId,
      catalog: this.ctx.catalog,
      nodePath: this.ctx.nodePath,
    };
  }

  /** Recovers what a crash left behind, then starts scheduling. */
  start(reattached: readonly Reattached[] = []): void {
    const { store, clock } = this.ctx;
    for (const t of store.listTasks(this.runId)) {
      this.#tasks.set(t.taskId, t);
      this.#candidates.add(t.taskId);
      if (!isTerminalTaskState(t.state)) this.#open++;
    }
    mkdirSync(join(this.ctx.dataDir, 'work', this.runId), { recursive: true });
    this.#scheduler.attach(this.runId, { launch: (taskId) => this.#launch(taskId) });
    this.#span = this.ctx.tracer.startSpan('maestro.run', {
      attributes: { 'maestro.run.id': this.runId, 'maestro.workflow': this.#run.workflow },
    });
    const by = `engine:${this.ctx.owner}`;
    // The run timeout counts from this execution's start for a new or user-retried run, and from
    // the interrupted execution's start when resuming after a crash.
    const lastStart = store
      .listTransitions(this.runId, null)
      .filter((t) => t.to === RunState.running)
      .at(-1)?.time;
    let timeoutFrom = lastStart ?? clock.now();
    if (this.#run.status === RunState.queued) {
      timeoutFrom = clock.now();
      this.transitionRun(RunState.running, Reason.started, by);
      const policy = this.#run.plan.policy ?? {};
      this.runLog(
        'system',
        `policy context: purpose=${policy.purpose ?? '-'} authority=${policy.authority ?? '-'} license=${policy.license ?? '-'}`,
      );
    } else {
      this.runLog('system', `resumed by ${by}`);
      recoverInterrupted(this, by, reattached);
      attestMissingReceipts(this);
    }
    if (isPolicyOff(this.ctx.policy))
      this.runLog(
        'system',
        `policy off (${this.ctx.policy.source}): tasks run without a policy decision; receipts say so`,
      );
    if (this.#run.plan.timeoutMs !== undefined) {
      const remaining = timeoutFrom + this.#run.plan.timeoutMs - clock.now();
      clock.sleep(Math.max(0, remaining), this.#timers.signal).then(
        () => this.stop('engine', 'run_timeout'),
        () => undefined,
      );
    }
    for (const r of reattached) void this.#adopt(r);
    this.evaluate();
  }

  /** Follows an attempt re-attached from a previous engine, like a launched one. */
  async #adopt(r: Reattached): Promise<void> {
    this.#inFlight++;
    try {
      await continueAttempt(this, r.attempt, r.handle, r.token);
    } catch (error) {
      this.runLog('system', `internal error in task ${r.attempt.taskId}: ${describeError(error)}`);
    } finally {
      this.#inFlight--;
    }
    this.evaluate();
  }

  transitionRun(to: RunState, reason: Reason, by: string): void {
    transitionRun(this.ctx, this.runId, this.#run.status, to, reason, by);
    this.#run = this.ctx.store.getRun(this.runId);
  }

  transitionTask(
    taskId: string,
    to: TaskState,
    reason: Reason,
    by: string,
    patch?: TaskPatch,
    detail?: string,
  ): void {
    const prepared = this.prepareTransition(taskId, to, reason, by, patch, detail);
    storeTaskWrite(this.ctx, this.task(taskId), prepared.write);
    prepared.commit();
  }

  /**
   * Checks a transition and returns what to store; `commit()` (after the store accepted it)
   * updates this execution's view and publishes the event. Lets a transition share the
   * transaction of an attempt's start or finish.
   */
  prepareTransition(
    taskId: string,
    to: TaskState,
    reason: Reason,
    by: string,
    patch?: TaskPatch,
    detail?: string,
  ): PreparedTransition {
    const current = this.task(taskId);
    const prepared = prepareTaskTransition(this.ctx, current, to, reason, by, patch, detail);
    return {
      write: prepared.write,
      commit: () => {
        this.#tasks.set(taskId, prepared.next);
        this.#open += Number(isTerminalTaskState(current.state)) - Number(isTerminalTaskState(to));
        if (to === TaskState.queued) this.#candidates.add(taskId);
        if (isTerminalTaskState(to))
          for (const d of this.#dependants.get(taskId) ?? []) this.#candidates.add(d);
        prepared.emit();
      },
    };
  }

  runLog(stream: Stream, text: string): void {
    this.taskLog(null, null, stream, text);
  }

  taskLog(taskId: string | null, attempt: number | null, stream: Stream, text: string): void {
    const time = this.ctx.clock.now();
    const line = this.ctx.redactAll(text);
    this.ctx.store.appendLogs([{ runId: this.runId, taskId, attempt, stream, text: line, time }]);
    this.ctx.emit({ type: 'log', runId: this.runId, taskId, attempt, stream, text: line, time });
  }

  defer(work: () => Promise<void>): void {
    this.#deferred++;
    setImmediate(() => {
      work()
        .catch((error: unknown) => this.runLog('system', `internal error: ${describeError(error)}`))
        .finally(() => {
          this.#deferred--;
          this.#maybeFinish();
        });
    });
  }

  registerHandle(taskId: string, handle: RunnerHandle | undefined): void {
    if (handle) this.#handles.set(taskId, handle);
    else this.#handles.delete(taskId);
  }

  /** Moves every queued task whose dependencies are all final to ready, skipped or cancelled. */
  evaluate(): void {
    const by = `engine:${this.ctx.owner}`;
    while (this.#candidates.size > 0) {
      // Plan order (topological, then declaration) keeps readiness FIFO deterministic.
      const batch = [...this.#candidates].sort((a, b) => this.task(a).position - this.task(b).position);
      this.#candidates.clear();
      for (const taskId of batch) this.#evaluateTask(taskId, by);
    }
    this.#maybeFinish();
  }

  #evaluateTask(taskId: string, by: string): void {
    const t = this.task(taskId);
    if (t.state !== TaskState.queued || t.notBefore !== null) return;
    if (this.#stop || this.#taskCancels.has(taskId)) {
      this.transitionTask(taskId, TaskState.cancelled, Reason.cancelRequested, this.taskCancelledBy(taskId)!);
      return;
    }
    const plan = this.planTask(taskId);
    const needs = plan.needs.map((id) => this.task(id).state);
    if (!needs.every(isTerminalTaskState)) return;
    if (needs.some((s) => failedStates.has(s))) {
      this.transitionTask(taskId, TaskState.skipped, Reason.dependencyFailed, by);
    } else if (needs.some((s) => s === TaskState.skipped) && !plan.runIfSkipped) {
      this.transitionTask(taskId, TaskState.skipped, Reason.dependencySkipped, by);
    } else if (plan.when !== undefined && !this.#condition(plan)) {
      // #condition already moved the task when evaluation itself failed.
      if (this.task(taskId).state === TaskState.queued)
        this.transitionTask(taskId, TaskState.skipped, Reason.conditionFalse, by, undefined, plan.when);
    } else {
      this.transitionTask(taskId, TaskState.ready, Reason.dependenciesMet, by);
      this.#scheduler.enqueue({ runId: this.runId, taskId, priority: this.#run.priority });
    }
  }

  #condition(plan: PlanTask): boolean {
    try {
      const scope = scopeFor(plan, this.dispatchContext(), {});
      return evaluateCondition(plan.when!, scope);
    } catch (error) {
      this.taskLog(plan.id, null, 'system', `when condition could not be evaluated: ${describeError(error)}`);
      this.transitionTask(
        plan.id,
        TaskState.failed,
        Reason.runnerError,
        `engine:${this.ctx.owner}`,
        undefined,
        describeError(error),
      );
      return false;
    }
  }

  async #launch(taskId: string): Promise<void> {
    this.#inFlight++;
    try {
      await runAttempt(this, taskId);
    } catch (error) {
      // A bug or a store failure: record it on the run's log, fail the task if we still can.
      this.ctx.logger.error(
        { runId: this.runId, taskId, err: this.ctx.redactAll(describeError(error)) },
        'attempt failed',
      );
      this.runLog('system', `internal error in task ${taskId}: ${describeError(error)}`);
      const state = this.task(taskId).state;
      if (state === TaskState.ready || state === TaskState.running)
        this.transitionTask(
          taskId,
          TaskState.failed,
          Reason.runnerError,
          `engine:${this.ctx.owner}`,
          undefined,
          describeError(error),
        );
    } finally {
      this.#inFlight--;
    }
    this.evaluate();
  }

  /**
   * What follows a finished (non-successful) attempt: a retry after a wait (queued with
   * notBefore), or the final state. Pure: the caller stores it with the attempt's result.
   */
  decideAfterAttempt(
    taskId: string,
    retryable: boolean,
    final: { state: TaskState; reason: Reason; detail?: string },
  ): { state: TaskState; reason: Reason; patch?: TaskPatch; detail?: string } {
    const { clock } = this.ctx;
    const t = this.task(taskId);
    const stopped = this.#stop !== undefined || this.#taskCancels.has(taskId);
    const delay = stopped
      ? undefined
      : nextRetry(
          {
            policy: this.planTask(taskId).retry,
            attempts: t.attempts - t.retryBase,
            retryable,
            firstStartedAt: t.firstStartedAt ?? clock.now(),
            now: clock.now(),
          },
          this.ctx.random,
        );
    if (delay !== undefined)
      return {
        state: TaskState.queued,
        reason: Reason.retryScheduled,
        patch: { notBefore: clock.now() + delay },
        detail: `wait ${delay}ms`,
      };
    const reason =
      retryable && t.attempts - t.retryBase > 1 && !stopped ? Reason.retriesExhausted : final.reason;
    return final.detail === undefined
      ? { state: final.state, reason }
      : { state: final.state, reason, detail: final.detail };
  }

  prepareReadyDependants(taskId: string, to: TaskState): ({ taskId: string } & PreparedTransition)[] {
    // Only the plain case (every need succeeded, no `when`, nothing cancelled): the same decision
    // #evaluateTask would take, one event-loop turn earlier. Anything else is left to evaluate().
    if (this.#stop || !isSuccessfulTaskState(to)) return [];
    const by = `engine:${this.ctx.owner}`;
    const prepared: ({ taskId: string } & PreparedTransition)[] = [];
    for (const d of this.#dependants.get(taskId) ?? []) {
      const t = this.task(d);
      if (t.state !== TaskState.queued || t.notBefore !== null || this.#taskCancels.has(d)) continue;
      const plan = this.planTask(d);
      if (plan.when !== undefined) continue;
      if (!plan.needs.every((n) => n === taskId || isSuccessfulTaskState(this.task(n).state))) continue;
      const p = this.prepareTransition(d, TaskState.ready, Reason.dependenciesMet, by);
      prepared.push({
        taskId: d,
        write: p.write,
        commit: () => {
          p.commit();
          this.#scheduler.enqueue({ runId: this.runId, taskId: d, priority: this.#run.priority });
        },
      });
    }
    return prepared;
  }

  /** Starts the wait of a retry stored by decideAfterAttempt. */
  afterRetryScheduled(taskId: string): void {
    const t = this.task(taskId);
    if (t.state === TaskState.queued && t.notBefore !== null) this.#waitForRetry(taskId, t.notBefore);
  }

  #waitForRetry(taskId: string, notBefore: number): void {
    const wait = Math.max(0, notBefore - this.ctx.clock.now());
    this.ctx.clock.sleep(wait, this.#timers.signal).then(
      () => {
        if (this.task(taskId).state !== TaskState.queued) return;
        this.#tasks.set(taskId, { ...this.task(taskId), notBefore: null });
        this.#candidates.add(taskId);
        this.evaluate();
      },
      () => {
        // Aborted by cancel/timeout: the task is cancelled by evaluate().
        if (this.task(taskId).state === TaskState.queued)
          this.#tasks.set(taskId, { ...this.task(taskId), notBefore: null });
        this.#candidates.add(taskId);
        this.evaluate();
      },
    );
  }

  /** Cancels one task: queued/ready ones at once, a running one through its runner. */
  async cancelTask(taskId: string, by: string): Promise<void> {
    this.#taskCancels.set(taskId, by);
    const t = this.task(taskId);
    if (t.state === TaskState.ready) {
      this.#scheduler.drain(this.runId);
      this.transitionTask(taskId, TaskState.cancelled, Reason.cancelRequested, by);
      this.#requeueReady();
    } else if (t.state === TaskState.queued) {
      this.transitionTask(taskId, TaskState.cancelled, Reason.cancelRequested, by);
    }
    await this.#handles.get(taskId)?.cancel('cancel_requested', this.ctx.graceMs);
    this.evaluate();
  }

  #requeueReady(): void {
    for (const t of this.#tasks.values())
      if (t.state === TaskState.ready)
        this.#scheduler.enqueue({ runId: this.runId, taskId: t.taskId, priority: this.#run.priority });
  }

  /** Stops the whole run (user cancel or run timeout). */
  async stop(by: string, reason: 'cancel_requested' | 'run_timeout'): Promise<void> {
    if (this.#stop || this.#finishing) return;
    this.#stop = { by, reason };
    for (const t of this.#tasks.values()) if (t.state === TaskState.queued) this.#candidates.add(t.taskId);
    this.runLog('system', reason === 'run_timeout' ? 'run timed out' : `cancel requested by ${by}`);
    for (const taskId of this.#scheduler.drain(this.runId))
      if (this.task(taskId).state === TaskState.ready)
        this.transitionTask(
          taskId,
          TaskState.cancelled,
          reason === 'run_timeout' ? Reason.runTimeout : Reason.cancelRequested,
          by,
        );
    this.#timers.abort();
    await Promise.all([...this.#handles.values()].map((h) => h.cancel(reason, this.ctx.graceMs)));
    this.evaluate();
  }

  #maybeFinish(): void {
    if (this.#finishing || this.#inFlight > 0 || this.#deferred > 0 || this.#open > 0) return;
    const tasks = [...this.#tasks.values()];
    this.#finishing = true;
    this.#timers.abort();
    void this.#close(tasks);
  }

  async #close(tasks: TaskRecord[]): Promise<void> {
    const by = this.#stop?.by ?? `engine:${this.ctx.owner}`;
    if (!isTerminalRunState(this.#run.status)) {
      if (this.#stop?.reason === 'run_timeout') this.transitionRun(RunState.timedOut, Reason.runTimeout, by);
      else if (this.#stop) this.transitionRun(RunState.cancelled, Reason.cancelRequested, by);
      else if (tasks.every((t) => isSuccessfulTaskState(t.state) || t.state === TaskState.skipped))
        this.transitionRun(RunState.succeeded, Reason.allTasksSucceeded, by);
      else this.transitionRun(RunState.failed, Reason.taskFailed, by);
    }
    await attestRunEnd(this);
    this.#span?.setAttribute('maestro.run.status', this.#run.status);
    this.#span?.setStatus({
      code: this.#run.status === RunState.succeeded ? SpanStatusCode.OK : SpanStatusCode.ERROR,
    });
    this.#span?.end();
    this.#scheduler.detach(this.runId);
    this.#finish(this.#run);
  }

  get span(): Span | undefined {
    return this.#span;
  }
}
