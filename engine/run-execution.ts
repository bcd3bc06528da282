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
import type { RunState } from '../core/index.ts';
import {
  Reason,
  TaskState,
  describeError,
  type PlanTask,
  type RunnerHandle,
  type Stream,
} from '../core/index.ts';
import type { EngineContext } from './context.ts';
import type { DispatchContext } from './dispatch.ts';
import type { Reattached } from './recover-run.ts';
import { adoptAttempt, launchAttempt } from './run-launch.ts';
import { decideAfterAttempt, readyDependants, type Decision } from './run-decisions.ts';
import { RunInputs } from './run-inputs.ts';
import { RunLog, type HeldLines } from './run-log.ts';
import { evaluateTask } from './run-readiness.ts';
import { beginRun } from './run-start.ts';
import { RunEnding } from './run-ending.ts';
import { RunHandoff } from './run-handoff.ts';
import { RunTimers } from './run-timers.ts';
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
  TaskRecord,
  TaskTransitionWrite,
} from './store/store.ts';
import type { AttemptHost, PreparedTransition } from './attempt-host.ts';

export class RunExecution implements AttemptHost {
  readonly ctx: EngineContext;
  readonly runId: string;
  readonly #scheduler: Scheduler;
  readonly #view: RunView;
  readonly #timers: RunTimers;
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
  /** Closing, parking, and `done` (run-ending.ts). */
  readonly #ending: RunEnding;
  readonly #handoff: RunHandoff;
  /** Why this worker gave the run up (abandon), if it did: nothing more is written. */
  #lost: string | undefined;
  /** Attempts still being processed (their receipts may not be stored yet). */
  #inFlight = 0;
  /** Deferred work (receipts being signed) not yet settled; the run waits for it before closing. */
  #deferred = 0;

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
      drain: () => this.#handoff.drain(),
      enqueue: (taskId) => this.#handoff.enqueue(taskId),
      evaluate: () => this.#evaluate(),
      finishing: () => this.#ending.finishing,
      abortTimers: () => this.#timers.abort(),
    });
    this.#timers = new RunTimers({
      ctx,
      view: this.#view,
      serial: (work) => this.serial(work),
      enqueue: (taskId) => this.#handoff.enqueue(taskId),
      evaluate: () => this.#evaluate(),
      runLog: (stream, text) => this.runLog(stream, text),
    });
    this.#logs = new RunLog(() => this.ctx, run.id);
    this.#inputs = new RunInputs(
      ctx,
      () => this.#writer.run,
      (id) => this.planTask(id),
      (text) => void this.runLog('system', text),
      () => this.#span,
    );
    this.#handoff = new RunHandoff({
      runId: run.id,
      scheduler,
      inputs: this.#inputs,
      priority: () => this.#writer.run.priority,
      live: () => this.#lost === undefined && !this.#ending.finishing,
    });
    this.#ending = new RunEnding({
      ctx,
      runId: run.id,
      view: this.#view,
      exec: this,
      run: () => this.run,
      span: () => this.#span,
      stopping: () => this.#stopper.stopping,
      serial: (work) => this.serial(work),
      transitionRun: (to, reason, by) => this.transitionRun(to, reason, by),
      runLog: (stream, text) => this.runLog(stream, text),
      logsIdle: () => this.#logs.idle(),
      abortTimers: () => this.#timers.abort(),
      detach: () => void this.#scheduler.detach(this.runId),
    });
  }

  get done(): Promise<RunRecord> {
    return this.#ending.done;
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

  storedOutputs(taskId: string, outputs: Record<string, string>): void {
    this.#inputs.storedOutputs(taskId, outputs);
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
      const timeoutMs = this.#writer.run.plan.timeoutMs;
      if (timeoutMs !== undefined)
        this.#timers.armRunTimeout(timeoutFrom, timeoutMs, () => {
          this.stop('engine', 'run_timeout').catch((error: unknown) => this.#unexpected(error));
        });
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
    await adoptAttempt(this, r);
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

  transitionTask(...args: Parameters<RunWriter['transitionTask']>): Promise<void> {
    return this.#writer.transitionTask(...args);
  }

  prepareTransition(...args: Parameters<RunWriter['prepareTransition']>): PreparedTransition {
    return this.#writer.prepareTransition(...args);
  }

  appendLogs(lines: StoredLogLine[]): Promise<void> {
    return this.#logs.append(lines);
  }

  holdLogs(lines: StoredLogLine[]): HeldLines {
    return this.#logs.hold(lines);
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
        await evaluateTask(this, taskId, by, this.taskCancelledBy(taskId), () =>
          this.#handoff.enqueue(taskId),
        );
      }
    }
    this.#maybeFinish();
  }

  /** A task the scheduler launched, followed to its end (run-launch.ts), then counted out. */
  async #launch(taskId: string): Promise<void> {
    this.#inFlight++;
    await launchAttempt(this, taskId);
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
          this.#handoff.enqueue(d);
        },
      };
    });
  }

  /**
   * Arms the task's stored timer, if it has one: a retry's wait or a durable timer (run-timers.ts).
   * Called when the timer is stored and again on resume, from the stored `notBefore`.
   */
  armTimer(taskId: string): void {
    this.#timers.arm(taskId);
  }

  armQuotaWait(taskId: string, ms: number): void {
    this.#timers.quotaWait(taskId, ms);
  }

  /** Cancels one task: queued/ready ones at once, a running one through its runner. */
  cancelTask(taskId: string, by: string): Promise<void> {
    return this.#stopper.cancelTask(taskId, by);
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
    if (this.#lost !== undefined || this.#ending.finishing) return;
    this.#lost = why;
    this.#timers.abort();
    this.#scheduler.detach(this.runId);
    this.ctx.logger.warn({ runId: this.runId, why }, 'run given up by this worker');
    void this.#stopper.cancelRunners('lease_lost').then(() => this.#ending.end(false));
  }

  /** Why this execution gave the run up; undefined while it holds it (the fenced store reads it). */
  get givenUp(): string | undefined {
    return this.#lost;
  }

  /** Called inside the queue: closes (or parks) the run once nothing is running or deferred. */
  #maybeFinish(): void {
    if (this.#lost !== undefined || this.#inFlight > 0 || this.#deferred > 0) return;
    this.#ending.whenIdle();
  }

  get span(): Span | undefined {
    return this.#span;
  }
}
