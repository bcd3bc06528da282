/**
 * What an attempt (run-attempt, policy-check, attest, log-pump) needs from the run executing it.
 * RunExecution implements it; keeping it apart keeps the engine's files free of import
 * cycles.
 */
import type { Span } from '@opentelemetry/api';
import type {
  DigestedFile,
  PlanTask,
  Reason,
  RunnerHandle,
  RunnerPlacement,
  Stream,
  TaskState,
} from '../core/index.ts';
import type { BudgetPass } from './cost.ts';
import type { EngineContext } from './context.ts';
import type { BudgetReads } from './budget-reads.ts';
import type { RunSpend } from './run-spend.ts';
import type { DispatchContext, ResolvedTask } from './dispatch.ts';
import type { HeldLines } from './run-log.ts';
import type {
  AttemptStart,
  RunRecord,
  StoredLogLine,
  TaskPatch,
  TaskRecord,
  TaskTransitionWrite,
} from './store/store.ts';
import type { AttemptPlacement } from './placement/choose-placement.ts';

export interface AttemptInfo {
  attempt: number;
  attemptId: string;
  workDir: string;
  /** $MAESTRO_ARTIFACTS: the artifacts of the tasks this one needs, read-only. */
  inputsDir: string;
  /** What this attempt keeps (its declared artifacts). */
  artifactsDir: string;
  /** The artifacts it received, by `<task>/<path>`, with their digests. */
  inputArtifacts: DigestedFile[];
  startedAt: number;
  cacheKey: string | null;
  decisionIds: string[];
  /** Its price per hour, the guard's estimate and a soft budget warning (budget-guard.ts). */
  cost: BudgetPass;
  /** The policy decision's egress allow-list, passed to the task (MAESTRO_EGRESS_ALLOWED_HOSTS). */
  egressAllowedHosts?: string[];
  resolved: ResolvedTask;
  redact: (text: string) => string;
  /** The flavor and prices price-aware placement chose for this attempt (placed tasks only). */
  placement?: AttemptPlacement;
  /**
   * Where its runner put it (a Kubernetes cluster), as stored with its start (set by the start,
   * or from the record when rebuilt): its receipt names it without reading the attempt back.
   */
  runnerPlacement?: RunnerPlacement;
}

export interface PreparedTransition {
  write: TaskTransitionWrite;
  commit(): void;
}

export interface AttemptHost {
  readonly ctx: EngineContext;
  readonly runId: string;
  readonly run: RunRecord;
  /** The run's span: every attempt's span is its child (undefined before the run starts). */
  readonly span: Span | undefined;
  readonly stopping: { by: string; reason: string } | undefined;
  task(taskId: string): TaskRecord;
  allTasks(): TaskRecord[];
  planTask(taskId: string): PlanTask;
  /** What resolving `taskId` needs: its needs' outputs are read from the store first. */
  dispatchContext(taskId: string): Promise<DispatchContext>;
  /**
   * The outputs of a successful (or cached) result this execution just stored: its dependants'
   * dispatch context takes them from here instead of reading them back (RunInputs).
   */
  storedOutputs(taskId: string, outputs: Record<string, string>): void;
  /** The run's read-only source export, made once per run (undefined: the run has no source). */
  sourceExport(): Promise<string | undefined>;
  taskCancelledBy(taskId: string): string | undefined;
  registerHandle(taskId: string, handle: RunnerHandle | undefined): void;
  /**
   * Stores a task's transition, then updates the run's view and publishes it. Only inside
   * `serial` (the run's events are applied one at a time).
   */
  transitionTask(
    taskId: string,
    to: TaskState,
    reason: Reason,
    by: string,
    patch?: TaskPatch,
    detail?: string,
  ): Promise<void>;
  prepareTransition(
    taskId: string,
    to: TaskState,
    reason: Reason,
    by: string,
    patch?: TaskPatch,
    detail?: string,
  ): PreparedTransition;
  decideAfterAttempt(
    taskId: string,
    retryable: boolean,
    final: { state: TaskState; reason: Reason; detail?: string },
  ): { state: TaskState; reason: Reason; patch?: TaskPatch; detail?: string };
  armTimer(taskId: string): void;
  /** Launches the ready task again after `ms` (a tasks quota's wait: quota-wait.ts). */
  armQuotaWait(taskId: string, ms: number): void;
  /** What the run has spent, kept as its attempts start and finish (the budget guard reads it). */
  readonly spend: RunSpend;
  /** The budget guard's reads kept for this execution (budget-reads.ts). */
  readonly budgetReads: BudgetReads;
  /**
   * Stores the attempt and its `running` transition (AsyncStore.startAttempt), together with a
   * held run start and first ready tasks when there are any (run-writer.ts); the token.
   */
  storeAttemptStart(start: AttemptStart, transition: TaskTransitionWrite): Promise<number>;
  /**
   * Runs `work` alone among this run's events, after those queued before it: every stretch that
   * reads the run's state, stores a transition and applies it goes through here. `work` must not
   * await anything that itself calls `serial` (serial-queue.ts).
   */
  serial<T>(work: () => Promise<T>): Promise<T>;
  /**
   * Appends log lines in the order asked, after the lines asked before; the promise settles once
   * they are stored (rejects if the store refused them).
   */
  appendLogs(lines: StoredLogLine[]): Promise<void>;
  /** Holds lines in their place in the order for the write that stores them (RunLog.hold). */
  holdLogs(lines: StoredLogLine[]): HeldLines;
  /**
   * The dependants of `taskId` that become ready once it reaches `to`, prepared to be stored in
   * the same transaction as the result that decides them; their commit() also queues them.
   */
  prepareReadyDependants(taskId: string, to: TaskState): ({ taskId: string } & PreparedTransition)[];
  /** Publishes the line, then stores it (in order); a store failure is logged, never thrown. */
  taskLog(taskId: string | null, attempt: number | null, stream: Stream, text: string): Promise<void>;
  runLog(stream: Stream, text: string): Promise<void>;
  /**
   * Runs work after the current turn, off the attempt's critical path (its scheduler slot and its
   * dependants do not wait for it); the run does not finish before the work has settled.
   */
  defer(work: () => Promise<void>): void;
  /**
   * Gives the run up: nothing more is written, runners are stopped, and whoever executes the run
   * next recovers it from the store (a lost lease; RunExecution.abandon).
   */
  abandon(why: string): void;
}
