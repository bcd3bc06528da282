/**
 * One run being executed by this engine instance: decides which tasks become ready, skipped or
 * cancelled, hands ready tasks to the scheduler, applies retries, and closes the run. Every
 * transition is asserted legal and stored before anything acts on it.
 *
 * The store is asynchronous, so the run's events (an attempt started or finished, a readiness
 * pass, a retry's wait ending, a cancel, the close) go through one serial queue: a stretch that
 * reads this view, stores a transition and applies it is never interleaved with another of the
 * same run. Runners, policy decisions, source exports and signing happen outside the queue.
 */
import { contextOfTraceParent, runSpanAttributes, traceIdOf } from './trace-context.ts';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Span } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  Reason,
  RunState,
  TaskState,
  describeError,
  type PlanTask,
  type RunnerHandle,
  type Stream,
} from '../core/index.ts';
import type { EngineContext } from './context.ts';
import type { DispatchContext } from './dispatch.ts';
import type { Reattached } from './recover-run.ts';
import { continueAttempt, runAttempt } from './run-attempt.ts';
import { decideAfterAttempt, readyDependants, type Decision } from './run-decisions.ts';
import { RunInputs } from './run-inputs.ts';
import { RunLog } from './run-log.ts';
import { evaluateTask } from './run-readiness.ts';
import { beginRun, closeRun } from './run-start.ts';
import type { Scheduler } from './scheduler.ts';
import { SerialQueue } from './serial-queue.ts';
import { RunView } from './run-view.ts';
import { RunStop, type StopReason } from './run-stop.ts';
import { RunWriter } from './run-writer.ts';
import { RunSpend } from './run-spend.ts';
import { BudgetReads } from './budget-reads.ts';
import type {
  AttemptStart,
  RunRecord,
  StoredLogLine,
  TaskPatch,
  TaskRecord,
  TaskTransitionWrite,
} from './store/store.ts';
import type { AttemptHost, PreparedTransition } from './attempt-host.ts';

export class RunExecution implements AttemptHost {
  readonly ctx: EngineContext;
  readonly runId: string;
  readonly #scheduler: Scheduler;
  readonly #view: RunView;
  readonly #timers = new AbortController();
  readonly #events = new SerialQueue();
  /** Log lines are stored in the order they were published, apart from the events' queue. */
  readonly #logs: RunLog;
  readonly #inputs: RunInputs;
  readonly #stopper: RunStop;
  /** Stores transitions and attempt starts; holds a new run's start (run-writer.ts). */
  readonly #writer: RunWriter;
  readonly spend: RunSpend;
  readonly budgetReads = new BudgetReads();
  #span: Span | undefined;
  #finish!: (run: RunRecord) => void;
  readonly done: Promise<RunRecord>;
  #finishing = false;
  /** Why this worker gave the run up (abandon), if it did: nothing more is written. */
  #lost: string | undefined;
  /** Attempts still being processed (their receipts may not be stored yet). */
  #inFlight = 0;
  /** Deferred work (receipts being signed) not yet settled; the run waits for it before closing. */
  #deferred = 0;
  /** Ready tasks waiting for the run's source before they queue for a slot (drained like queued ones). */
  readonly #awaitingSource = new Set<string>();

  constructor(ctx: EngineContext, run: RunRecord, scheduler: Scheduler) {
    this.ctx = ctx;
    this.runId = run.id;
    this.#scheduler = scheduler;
    this.#view = new RunView(run);
    this.#writer = new RunWriter(ctx, run, this.#view);
    this.spend = new RunSpend(run.id, (id) => this.planTask(id), ctx.prices);
    this.#stopper = new RunStop({
      ctx,
      view: this.#view,
      serial: (work) => this.serial(work),
      transitionTask: (taskId, to, reason, by) => this.transitionTask(taskId, to, reason, by),
      runLog: (stream, text) => this.runLog(stream, text),
      drain: () => this.#drain(),
      enqueue: (taskId) => this.#enqueue(taskId),
      evaluate: () => this.#evaluate(),
      finishing: () => this.#finishing,
      abortTimers: () => this.#timers.abort(),
    });
    this.done = new Promise((resolve) => (this.#finish = resolve));
    this.#logs = new RunLog(() => this.ctx, run.id);
    this.#inputs = new RunInputs(
      ctx,
      () => this.#writer.run,
      (id) => this.planTask(id),
      (text) => void this.runLog('system', text),
      () => this.#span,
    );
  }

  get run(): RunRecord {
    return this.#writer.run;
  }

  get stopping(): { by: string; reason: string } | undefined {
    return this.#stopper.stopping;
  }

  planTask(taskId: string): PlanTask {
    return this.#view.planTask(taskId);
  }

  task(taskId: string): TaskRecord {
    return this.#view.task(taskId);
  }

  allTasks(): TaskRecord[] {
    return this.#view.all();
  }

  taskCancelledBy(taskId: string): string | undefined {
    return this.#stopper.cancelledBy(taskId);
  }

  serial<T>(work: () => Promise<T>): Promise<T> {
    return this.#events.run(work);
  }

  /** The run's read-only source export, made once per run (undefined: the run has no source). */
  sourceExport(): Promise<string | undefined> {
    return this.#inputs.sourceExport();
  }

  dispatchContext(taskId: string): Promise<DispatchContext> {
    return this.#inputs.dispatchContext(taskId);
  }

  /**
   * Recovers what a crash left behind, then starts scheduling. `tasks`: the run's tasks as read
   * under the lease already (a claim hands them over); otherwise they are read here.
   */
  start(reattached: readonly Reattached[] = [], tasks?: readonly TaskRecord[]): Promise<void> {
    return this.serial(async () => {
      this.#view.load(tasks ?? (await this.ctx.store.listTasks(this.runId)));
      await mkdir(join(this.ctx.dataDir, 'work', this.runId), { recursive: true });
      this.#scheduler.attach(this.runId, { launch: (taskId) => this.#launch(taskId) });
      // Under the context the run was submitted with (the API request's, the delivery's), so the
      // run joins its caller's trace whichever process executes it.
      this.#span = this.ctx.tracer.startSpan(
        'maestro.run',
        { attributes: runSpanAttributes(this.runId, this.#writer.run.workflow) },
        contextOfTraceParent(this.#writer.run.traceParent),
      );
      const timeoutFrom = await beginRun(this, reattached);
      this.#logTraceId();
      if (this.#writer.run.plan.timeoutMs !== undefined) {
        const remaining = timeoutFrom + this.#writer.run.plan.timeoutMs - this.ctx.clock.now();
        this.ctx.clock.sleep(Math.max(0, remaining), this.#timers.signal).then(
          () => this.stop('engine', 'run_timeout').catch((error: unknown) => this.#unexpected(error)),
          () => undefined,
        );
      }
      for (const r of reattached) void this.#adopt(r);
      await this.#evaluate();
    });
  }

  /** Where a person finds the run's trace: the run's log and the server's, when tracing is on. */
  #logTraceId(): void {
    const traceId = traceIdOf(this.#span);
    if (traceId === undefined) return;
    this.ctx.logger.info({ runId: this.runId, traceId }, 'run traced');
    void this.runLog('system', `trace id ${traceId}`);
  }

  /** Follows an attempt re-attached from a previous engine, like a launched one. */
  async #adopt(r: Reattached): Promise<void> {
    this.#inFlight++;
    try {
      await continueAttempt(this, r.attempt, r.handle, r.token);
    } catch (error) {
      void this.runLog('system', `internal error in task ${r.attempt.taskId}: ${describeError(error)}`);
    }
    await this.#settled();
  }

  /** An attempt's processing ended: count it out and look at what it changed, in turn. */
  #settled(): Promise<void> {
    return this.serial(async () => {
      this.#inFlight--;
      await this.#evaluate();
    }).catch((error: unknown) => this.#unexpected(error));
  }

  /** A failure nothing awaits (a launch's, a timer's): logged; none once the run was given up. */
  #unexpected(error: unknown): void {
    if (this.#lost !== undefined) return;
    this.ctx.logger.error({ runId: this.runId, err: describeError(error) }, 'run event failed');
    void this.runLog('system', `internal error: ${describeError(error)}`);
  }

  transitionRun(to: RunState, reason: Reason, by: string): Promise<void> {
    return this.#writer.transitionRun(to, reason, by);
  }

  holdStart(by: string): void {
    this.#writer.holdStart(by);
  }

  storeAttemptStart(start: AttemptStart, transition: TaskTransitionWrite): Promise<number> {
    return this.#writer.storeAttemptStart(start, transition);
  }

  transitionTask(
    taskId: string,
    to: TaskState,
    reason: Reason,
    by: string,
    patch?: TaskPatch,
    detail?: string,
  ) {
    return this.#writer.transitionTask(taskId, to, reason, by, patch, detail);
  }

  prepareTransition(
    taskId: string,
    to: TaskState,
    reason: Reason,
    by: string,
    patch?: TaskPatch,
    detail?: string,
  ) {
    return this.#writer.prepareTransition(taskId, to, reason, by, patch, detail);
  }

  appendLogs(lines: StoredLogLine[]): Promise<void> {
    return this.#logs.append(lines);
  }

  runLog(stream: Stream, text: string): Promise<void> {
    return this.#logs.line(null, null, stream, text);
  }

  taskLog(taskId: string | null, attempt: number | null, stream: Stream, text: string): Promise<void> {
    return this.#logs.line(taskId, attempt, stream, text);
  }

  defer(work: () => Promise<void>): void {
    this.#deferred++;
    setImmediate(() => {
      work()
        .catch((error: unknown) => this.runLog('system', `internal error: ${describeError(error)}`))
        .finally(() =>
          this.serial(async () => {
            this.#deferred--;
            this.#maybeFinish();
          }),
        );
    });
  }

  registerHandle(taskId: string, handle: RunnerHandle | undefined): void {
    this.#stopper.registerHandle(taskId, handle);
  }

  /** Moves every queued task whose dependencies are all final to ready, skipped or cancelled. */
  async #evaluate(): Promise<void> {
    const by = `engine:${this.ctx.owner}`;
    while (this.#view.hasCandidates()) {
      for (const taskId of this.#view.takeCandidates()) {
        if (this.#lost) return;
        await evaluateTask(this, taskId, by, this.taskCancelledBy(taskId), () => this.#enqueue(taskId));
      }
    }
    this.#maybeFinish();
  }

  async #launch(taskId: string): Promise<void> {
    this.#inFlight++;
    try {
      await runAttempt(this, taskId);
    } catch (error) {
      // Given up (abandon): the next executor recovers the attempt; nothing is written here.
      if (this.#lost !== undefined) return this.#settled();
      // A bug or a store failure: record it on the run's log, fail the task if we still can.
      this.ctx.logger.error(
        { runId: this.runId, taskId, err: this.ctx.redactAll(describeError(error)) },
        'attempt failed',
      );
      void this.runLog('system', `internal error in task ${taskId}: ${describeError(error)}`);
      await this.serial(async () => {
        const state = this.task(taskId).state;
        if (state === TaskState.ready || state === TaskState.running)
          await this.transitionTask(
            taskId,
            TaskState.failed,
            Reason.runnerError,
            `engine:${this.ctx.owner}`,
            undefined,
            describeError(error),
          );
      }).catch((failed: unknown) => void this.runLog('system', `task ${taskId}: ${describeError(failed)}`));
    }
    await this.#settled();
  }

  decideAfterAttempt(
    taskId: string,
    retryable: boolean,
    final: { state: TaskState; reason: Reason; detail?: string },
  ): Decision {
    return decideAfterAttempt(this, taskId, retryable, final);
  }

  prepareReadyDependants(taskId: string, to: TaskState): ({ taskId: string } & PreparedTransition)[] {
    const by = `engine:${this.ctx.owner}`;
    return readyDependants(this, this.#view.dependantsOf(taskId), taskId, to).map((d) => {
      const p = this.prepareTransition(d, TaskState.ready, Reason.dependenciesMet, by);
      return {
        taskId: d,
        write: p.write,
        commit: () => {
          p.commit();
          this.#enqueue(d);
        },
      };
    });
  }

  /**
   * Arms the task's stored timer, if it has one: a retry's wait (queued, decideAfterAttempt) or a
   * durable timer (ready, reason waiting_until: durable-timer.ts). Called when the timer is stored
   * and again on resume, from the stored `notBefore`, so a restart neither loses nor restarts it.
   */
  armTimer(taskId: string): void {
    const t = this.task(taskId);
    if (t.notBefore === null) return;
    if (t.state === TaskState.queued) this.#waitForRetry(taskId, t.notBefore);
    else if (t.state === TaskState.ready) this.#waitForTimer(taskId, t.notBefore);
  }

  armQuotaWait(taskId: string, ms: number): void {
    // Aborted (the run is stopping or closing): stop() cancels ready tasks itself.
    const again = () =>
      void this.serial(async () => {
        if (this.task(taskId).state === TaskState.ready) this.#enqueue(taskId);
      }).catch((error: unknown) => void this.runLog('system', `internal error: ${describeError(error)}`));
    this.ctx.clock.sleep(ms, this.#timers.signal).then(again, () => undefined);
  }

  #waitForTimer(taskId: string, notBefore: number): void {
    const wait = Math.max(0, notBefore - this.ctx.clock.now());
    // Aborted (the run is stopping or closing): stop() cancels timer-held tasks itself.
    const due = () =>
      void this.serial(async () => {
        if (this.#view.timerEnded(taskId)) this.#enqueue(taskId);
      }).catch((error: unknown) => void this.runLog('system', `internal error: ${describeError(error)}`));
    this.ctx.clock.sleep(wait, this.#timers.signal).then(due, () => undefined);
  }

  #waitForRetry(taskId: string, notBefore: number): void {
    const wait = Math.max(0, notBefore - this.ctx.clock.now());
    // Either way (the wait ended, or a cancel or timeout aborted it) the task is looked at again:
    // queued without a wait it becomes ready, or is cancelled by the readiness pass.
    const reconsider = () =>
      void this.serial(async () => {
        this.#view.clearWait(taskId);
        await this.#evaluate();
      }).catch((error: unknown) => void this.runLog('system', `internal error: ${describeError(error)}`));
    this.ctx.clock.sleep(wait, this.#timers.signal).then(reconsider, reconsider);
  }

  /** Cancels one task: queued/ready ones at once, a running one through its runner. */
  cancelTask(taskId: string, by: string): Promise<void> {
    return this.#stopper.cancelTask(taskId, by);
  }

  /**
   * Hands a ready task to the scheduler, once the run's source is exported (RunInputs.sourceReady):
   * waiting tasks hold no slot. They wait in the order they became ready, and a stop or cancel
   * drains them as it drains the scheduler's queue.
   */
  #enqueue(taskId: string): void {
    const item = { runId: this.runId, taskId, priority: this.#writer.run.priority };
    const ready = this.#inputs.sourceReady();
    if (!ready) return this.#scheduler.enqueue(item);
    this.#awaitingSource.add(taskId);
    void ready.then(() => {
      // Drained meanwhile (a stop, a cancel), or this execution ended: nothing to launch.
      if (!this.#awaitingSource.delete(taskId) || this.#lost !== undefined || this.#finishing) return;
      this.#scheduler.enqueue(item);
    });
  }

  /** Takes the run's ready tasks out of the scheduler's queue and the source wait; returns them. */
  #drain(): string[] {
    const waiting = [...this.#awaitingSource];
    this.#awaitingSource.clear();
    return [...this.#scheduler.drain(this.runId), ...waiting];
  }

  /** Stops the whole run (user cancel or run timeout). */
  async stop(by: string, reason: StopReason): Promise<void> {
    try {
      await this.#stopper.stop(by, reason);
    } catch (error) {
      // Given up meanwhile: the next executor sees the stored cancel request and acts on it.
      if (this.#lost === undefined) throw error;
    }
  }

  /**
   * Gives the run up without writing anything more (this worker lost the run's lease, or the
   * store failed under it): runners are stopped and `done` resolves with the run as last seen.
   * Whoever claims the run next recovers it from what was stored (recover-run.ts). Why not fail
   * the tasks: every write is refused once another worker holds the lease, and a store that
   * failed mid-write may have committed it; the stored state is the only truth left.
   */
  abandon(why: string): void {
    if (this.#lost !== undefined || this.#finishing) return;
    this.#lost = why;
    this.#timers.abort();
    this.#scheduler.detach(this.runId);
    this.ctx.logger.warn({ runId: this.runId, why }, 'run given up by this worker');
    void this.#stopper.cancelRunners('lease_lost').then(() => {
      this.#span?.end();
      this.#finish(this.#writer.run);
    });
  }

  /** Why this execution gave the run up; undefined while it holds it (the fenced store reads it). */
  get givenUp(): string | undefined {
    return this.#lost;
  }

  /** Called inside the queue: closes the run once nothing is open, running or deferred. */
  #maybeFinish(): void {
    if (
      this.#lost !== undefined ||
      this.#finishing ||
      this.#inFlight > 0 ||
      this.#deferred > 0 ||
      this.#view.open > 0
    )
      return this.#maybePark();
    const tasks = this.#view.all();
    this.#finishing = true;
    this.#timers.abort();
    void this.serial(() => this.#close(tasks)).catch((error: unknown) => {
      // The run stays open in the store (a resume finishes it); the caller must not hang.
      this.ctx.logger.error({ runId: this.runId, err: describeError(error) }, 'run could not be closed');
      this.#scheduler.detach(this.runId);
      this.#span?.end();
      this.#finish(this.#writer.run);
    });
  }

  /**
   * Parks the run when all that is left open waits on approval tasks: nothing ready, running,
   * deferred or waiting for a retry. The run is stored `waiting_for_approval` and this execution
   * ends, holding no process and no lease; the approvals (or a timeout) put it back to `queued`
   * (approval-task/), and whoever claims it then carries on from what was stored.
   */
  #maybePark(): void {
    if (this.#lost !== undefined || this.#finishing || this.#inFlight > 0 || this.#deferred > 0) return;
    if (this.#stopper.stopping) return;
    const tasks = this.#view.all();
    if (!tasks.some((t) => t.state === TaskState.waitingForApproval)) return;
    const busy = (t: TaskRecord) =>
      t.state === TaskState.ready ||
      t.state === TaskState.running ||
      (t.state === TaskState.queued && t.notBefore !== null);
    if (tasks.some(busy) || this.#view.hasCandidates()) return;
    this.#finishing = true;
    this.#timers.abort();
    void this.serial(async () => {
      await this.transitionRun(
        RunState.waitingForApproval,
        Reason.approvalRequired,
        `engine:${this.ctx.owner}`,
      );
      void this.runLog('system', 'waiting for approval: the run holds no process until its approvals arrive');
      await this.#logs.idle();
      this.#span?.setAttribute('maestro.run.status', RunState.waitingForApproval);
      this.#span?.end();
      this.#scheduler.detach(this.runId);
      this.#finish(this.#writer.run);
    }).catch((error: unknown) => {
      this.ctx.logger.error({ runId: this.runId, err: describeError(error) }, 'run could not be parked');
      this.#scheduler.detach(this.runId);
      this.#span?.end();
      this.#finish(this.#writer.run);
    });
  }

  async #close(tasks: TaskRecord[]): Promise<void> {
    await closeRun(this, this.#stopper.stopping, tasks);
    // Every line published so far is stored before the run is reported done.
    await this.#logs.idle();
    this.#span?.setAttribute('maestro.run.status', this.#writer.run.status);
    this.#span?.setStatus({
      code: this.#writer.run.status === RunState.succeeded ? SpanStatusCode.OK : SpanStatusCode.ERROR,
    });
    this.#span?.end();
    this.#scheduler.detach(this.runId);
    this.#finish(this.#writer.run);
  }

  get span(): Span | undefined {
    return this.#span;
  }
}
