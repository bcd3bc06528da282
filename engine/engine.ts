/**
 * The engine's public object: submit a plan as a run, execute it (or resume it after a crash),
 * cancel, retry the failed part, and subscribe to events. One instance may execute many runs at
 * once within its concurrency limits.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { trace, type Tracer } from '@opentelemetry/api';
import pino, { type Logger } from 'pino';
import {
  Reason,
  RunState,
  TaskState,
  isTerminalRunState,
  systemClock,
  systemRandom,
  type Attestor,
  type Clock,
  type Plan,
  type RunTrust,
  isPolicyOff,
  type PolicyChoice,
  type PolicyOff,
  type RandomSource,
  type RunnerRegistry,
  type RunSource,
  type SourceFetcher,
  type TaskCatalog,
  type TelemetrySink,
} from '../core/index.ts';
import { createRedactor } from '../core/index.ts';
import type { RemoteArtifacts } from './artifact-store/artifact-store.ts';
import { CircuitBreaker, type BreakerOptions } from './breaker.ts';
import { loadOrCreateCacheSecret } from './cache-secret.ts';
import type { EngineContext } from './context.ts';
import {
  ApprovalPendingError,
  PolicyRequiredError,
  RunNotApprovedError,
  TaskNotRetryableError,
  RunNotWaitingError,
  InvalidReattemptsError,
  RunnerNotConfiguredError,
  RunnerPlacementError,
  StaleStateError,
} from './errors.ts';
import type { EngineEvent, EngineListener } from './events.ts';
import { resolveParams } from './params.ts';
import { replayRun, type ReplayReport } from './replay.ts';
import { reattachRunning } from './recover-run.ts';
import { RunExecution } from './run-execution.ts';
import { Scheduler } from './scheduler.ts';
import { transitionRun, transitionTask } from './transitions.ts';
import { createRunKeeper, fencedStore, ownerIsDeadHere, takeRunLease } from './run-lease.ts';
import { runLeaseName, runOfLease, type AsyncStore } from './store/async-store.ts';
import type { Lease, RunRecord, TaskRecord } from './store/store.ts';

export interface EngineOptions {
  /** Either store (SQLite through its adapter, PostgreSQL natively: store/open-store.ts). */
  store: AsyncStore;
  runners: RunnerRegistry;
  /** Where attempts' work and artifacts directories live. */
  dataDir: string;
  catalog?: TaskCatalog;
  /** Required: a gate asked before every attempt, or the explicit policyOff(...) (never implied). */
  policy: PolicyChoice;
  attestor?: Attestor;
  clock?: Clock;
  random?: RandomSource;
  logger?: Logger;
  tracer?: Tracer;
  /** Overall concurrent attempts (default: CPU count). */
  concurrency?: number;
  /** Concurrent attempts per run (default: unlimited within the overall limit). */
  runConcurrency?: number;
  secrets?: Record<string, string>;
  breaker?: BreakerOptions;
  /** Where the engine's measurements go (its circuit breaker's openings and closings). */
  telemetry?: TelemetrySink;
  /** Lease time to live for attempts and runs (heartbeats renew at a third of it). */
  leaseMs?: number;
  /** Grace between the cancel signal and the kill. */
  graceMs?: number;
  /**
   * How many times a task gets a new attempt after one was lost to a crash of the engine or worker
   * running it (recover-run.ts), counted apart from its `retry.limit` (default 3; 0: never).
   * A task with `onInterrupt: fail` never does.
   */
  reattempts?: number;
  /** Node binary for catalog tasks (default: this process's). */
  nodePath?: string;
  /**
   * Node arguments before a repository task's entry (`uses: ./.maestro/tasks/<name>`): the
   * runtime passes `--import` of the SDK's resolve hook, so `@summit-maestro/sdk` is this install's.
   */
  taskNodeArgs?: string[];
  /**
   * Key of the HMAC over a task's secrets in its cache key (cache-secret.ts). Default: the data
   * dir's own, made on first use. Engines sharing one store across hosts pass the same key.
   */
  cacheSecret?: Buffer;
  /** Exports a run's source for its tasks' workspaces; a run with a source needs one. */
  source?: SourceFetcher;
  /**
   * An object store for the artifacts of tasks on `runners` (artifact-transfer.ts). Unset: every
   * artifact stays in the data dir.
   */
  artifacts?: RemoteArtifacts;
}

export interface SubmitOptions {
  params?: Record<string, unknown>;
  trigger?: string;
  actor?: string;
  priority?: number;
  approvalDigest?: string;
  /**
   * The run needs approvals first: it is stored in `waiting_for_approval` (never queued) and
   * executes only after `approve`. An `execute` before that is refused (ApprovalPendingError).
   */
  awaitApproval?: boolean;
  /** The repository at the exact commit the tasks run on (recorded with the run, attested). */
  source?: RunSource;
  /**
   * The run's id, chosen by the caller (`r-<uuid>` otherwise): a surface that records the id
   * before submitting (the App's idempotent dispatch) finds the same run again after a crash.
   */
  runId?: string;
  /**
   * `trusted` (the operator's CLI run, a push, a same-repository pull request) or `untrusted` (a
   * fork's pull request: no network on any runner). Default `untrusted`: a surface must say.
   */
  trust?: RunTrust;
}

export interface Engine {
  readonly store: AsyncStore;
  /** Set when this engine runs with policy turned off on purpose (surfaces state it). */
  readonly policyOff: PolicyOff | undefined;
  /** Stores the run (queued); resolves to its id. */
  submit(plan: Plan, options?: SubmitOptions): Promise<string>;
  /** Throws RunnerNotConfiguredError when a task names a runner this engine does not have. */
  checkRunners(plan: Plan): void;
  /** `signal` aborting cancels the run, recorded as cancelled by `abortedBy` (default `signal`). */
  execute(runId: string, options?: { signal?: AbortSignal; abortedBy?: string }): Promise<RunRecord>;
  resume(runId: string, options?: { signal?: AbortSignal; abortedBy?: string }): Promise<RunRecord>;
  /**
   * For workers sharing one store: claims the most urgent run that needs an executor (queued, or
   * running with its lease expired: its executor died) and executes it, resuming it as `execute`
   * does. Null when no run needs one. `done` settles when this engine stops executing it: run
   * finished, or given up because another worker took the lease over.
   */
  claim(options?: {
    signal?: AbortSignal;
    abortedBy?: string;
  }): Promise<{ runId: string; done: Promise<RunRecord> } | null>;
  cancel(runId: string, options: { by: string; taskId?: string }): Promise<void>;
  /**
   * Re-opens the failed part of a terminal run as new attempts. `tasks` narrows it to those
   * failed tasks (and the tasks skipped because of them): the console's "retry this task".
   * TaskNotRetryableError when one of them is unknown or did not fail.
   */
  retry(runId: string, options?: { by?: string; tasks?: readonly string[] }): Promise<RunRecord>;
  /**
   * Releases a run waiting for approval: `waiting_for_approval -> queued` (reason
   * `approval_granted`) with the attestation digest its receipts will cite, in one compare-and-set.
   * RunNotWaitingError when the run is not waiting (already released, cancelled, never gated).
   */
  approve(runId: string, options: { by: string; approvalDigest: string }): Promise<RunRecord>;
  subscribe(listener: EngineListener): () => void;
  /** Re-executes a run's successful tasks with their recorded inputs and compares the results. */
  replay(runId: string, options?: { taskId?: string }): Promise<ReplayReport>;
}

export function createEngine(options: EngineOptions): Engine {
  // The type already requires it; JavaScript callers and casts are refused here (fail closed).
  if ((options.policy as PolicyChoice | undefined) === undefined) throw new PolicyRequiredError();
  const listeners = new Set<EngineListener>();
  const secrets = options.secrets ?? {};
  const clock = options.clock ?? systemClock;
  const ctx: EngineContext = {
    store: options.store,
    runners: options.runners,
    catalog: options.catalog,
    policy: options.policy,
    attestor: options.attestor,
    clock,
    random: options.random ?? systemRandom,
    logger: options.logger ?? pino({ level: 'silent' }),
    tracer: options.tracer ?? trace.getTracer('summit-maestro-engine'),
    dataDir: options.dataDir,
    secrets,
    breaker: new CircuitBreaker(
      options.breaker ?? { threshold: 5, coolDownMs: 30_000 },
      clock,
      options.telemetry,
    ),
    owner: `${hostname()}|${process.pid}|${randomUUID()}`,
    leaseMs: options.leaseMs ?? 15_000,
    graceMs: options.graceMs ?? 5_000,
    reattempts: reattemptCap(options.reattempts),
    nodePath: options.nodePath ?? process.execPath,
    taskNodeArgs: options.taskNodeArgs ?? [],
    source: options.source,
    emit: (event: EngineEvent) => {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // A listener's failure must never affect the run.
        }
      }
    },
    redactAll: createRedactor(Object.values(secrets)),
    cacheSecret: options.cacheSecret ?? loadOrCreateCacheSecret(options.dataDir),
    artifacts: options.artifacts,
  };
  const scheduler = new Scheduler(
    options.concurrency ?? availableParallelism(),
    options.runConcurrency ?? Infinity,
  );
  const executing = new Map<string, RunExecution>();
  const runKeeper = createRunKeeper(ctx);
  /** Executions being set up or running, so two calls for one run share one execution. */
  const pending = new Map<string, Promise<RunRecord>>();
  const store = options.store;

  function execute(
    runId: string,
    opts: { signal?: AbortSignal; abortedBy?: string } = {},
  ): Promise<RunRecord> {
    const existing = pending.get(runId);
    if (existing) return existing;
    const started = executeOnce(runId, opts).finally(() => {
      if (pending.get(runId) === started) pending.delete(runId);
    });
    pending.set(runId, started);
    return started;
  }

  /** Executes a run under `lease` (taken by `execute`, or handed over by `claimRun`). */
  async function executeOnce(
    runId: string,
    opts: { signal?: AbortSignal; abortedBy?: string },
    held?: Lease,
  ): Promise<RunRecord> {
    let run = await store.getRun(runId);
    if (isTerminalRunState(run.status)) {
      if (held) await store.releaseLease(held.name, ctx.owner, held.token);
      return run;
    }
    // Fail closed: a gated run executes nothing before its approval moved it to queued (the
    // state only ever leaves waiting_for_approval for queued or cancelled).
    if (run.status === RunState.waitingForApproval) throw new ApprovalPendingError(runId);
    const lease = held ?? (await takeRunLease(ctx, runId));
    let exec: RunExecution | undefined;
    // Every write of this execution is fenced by the lease's token (run-lease.ts).
    const runCtx: EngineContext = { ...ctx, store: fencedStore(store, lease, () => exec) };
    let keeper: { stop(): Promise<void> } | undefined;
    const quietly = (stopping: Promise<void> | undefined) =>
      void stopping?.catch((error: unknown) =>
        ctx.logger.error({ runId, err: String(error) }, 'cancel failed'),
      );
    const onAbort = () => quietly(exec?.stop(opts.abortedBy ?? 'signal', 'cancel_requested'));
    try {
      // Read again under the lease (a take may follow another executor's last write); a claimed
      // run was first read above, after its claim, so that read is already under the lease.
      if (!held) run = await store.getRun(runId);
      const reattached = run.status === RunState.running ? await reattachRunning(runCtx, run) : [];
      exec = new RunExecution(runCtx, run, scheduler);
      executing.set(runId, exec);
      const watcher = exec;
      keeper = runKeeper.keep(lease, {
        abandon: (why) => watcher.abandon(why),
        cancelRequested: (by) => quietly(watcher.stop(by, 'cancel_requested')),
      });
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      await exec.start(reattached);
      if (run.cancelRequestedBy) quietly(exec.stop(run.cancelRequestedBy, 'cancel_requested'));
      return await exec.done;
    } finally {
      await keeper?.stop();
      opts.signal?.removeEventListener('abort', onAbort);
      if (executing.get(runId) === exec) executing.delete(runId);
      // Under its token only: a lease another worker (or a later claim of ours) holds stays.
      await store
        .releaseLease(lease.name, ctx.owner, lease.token)
        .catch((error: unknown) => ctx.logger.warn({ runId, err: String(error) }, 'run lease not released'));
    }
  }

  /** claimRun, then execute what it handed over (Engine.claim). */
  async function claim(opts: { signal?: AbortSignal; abortedBy?: string } = {}) {
    const lease = await store.claimRun(ctx.owner, clock.now(), ctx.leaseMs);
    if (!lease) return null;
    const runId = runOfLease(lease.name);
    // This engine still winding down an execution it lost (paused past its lease, then re-claimed
    // the run): the new one starts once the old one has let go.
    const before = pending.get(runId)?.catch(() => undefined);
    const done = (async () => {
      await before;
      return executeOnce(runId, opts, lease);
    })().finally(() => {
      if (pending.get(runId) === done) pending.delete(runId);
    });
    pending.set(runId, done);
    return { runId, done };
  }

  function checkRunners(plan: Plan): void {
    for (const task of plan.tasks) {
      const runner = options.runners.get(task.runner);
      if (!runner) throw new RunnerNotConfiguredError(task.id, task.runner, options.runners.kinds());
      // Where it would run (a Kubernetes cluster): a task that cannot be placed refuses the run.
      const answer = runner.place?.({ resources: task.resources, namespace: plan.workflow.namespace });
      if (answer && 'refused' in answer) throw new RunnerPlacementError(task.id, task.runner, answer.refused);
    }
  }

  /** Cancels a run nobody is executing: its open tasks and the run itself, in the store. */
  async function cancelIdle(run: RunRecord, by: string): Promise<void> {
    const now = clock.now();
    for (const t of await store.listTasks(run.id)) {
      if (
        t.state !== TaskState.queued &&
        t.state !== TaskState.ready &&
        t.state !== TaskState.waitingForApproval
      )
        continue;
      await transitionTask(ctx, t, TaskState.cancelled, Reason.cancelRequested, by);
    }
    if (run.status === RunState.running) {
      // Running tasks belong to a dead engine: their attempts are closed as interrupted first.
      for (const a of await store.listAttempts(run.id))
        if (a.status === 'running')
          await store.interruptAttempt(a.id, now, `cancelled by ${by} while no engine was running it`);
      for (const t of await store.listTasks(run.id))
        if (t.state === TaskState.running)
          await transitionTask(ctx, t, TaskState.cancelled, Reason.cancelRequested, by);
    }
    await transitionRun(ctx, run.id, run.status, RunState.cancelled, Reason.cancelRequested, by);
  }

  return {
    store,
    policyOff: isPolicyOff(options.policy) ? options.policy : undefined,
    checkRunners,
    async submit(plan, submit = {}) {
      // A runner the operator has not configured is the manifest's error, before anything is stored.
      checkRunners(plan);
      const id = submit.runId ?? `r-${randomUUID()}`;
      const record = await store.createRun({
        id,
        workflow: plan.workflow.name,
        namespace: plan.workflow.namespace,
        planDigest: plan.digest,
        plan,
        params: resolveParams(plan, submit.params ?? {}),
        trigger: submit.trigger ?? 'manual',
        actor: submit.actor ?? 'unknown',
        priority: submit.priority ?? 0,
        createdAt: clock.now(),
        approvalDigest: submit.approvalDigest ?? null,
        source: submit.source ?? null,
        trust: submit.trust ?? 'untrusted',
        by: submit.actor ?? 'unknown',
        ...(submit.awaitApproval ? { awaitApproval: true } : {}),
      });
      ctx.emit({
        type: 'run',
        runId: id,
        from: null,
        to: record.status,
        reason: record.reason,
        by: record.actor,
        time: record.createdAt,
      });
      return id;
    },
    execute,
    resume: execute,
    claim,
    async cancel(runId, { by, taskId }) {
      const run = await store.getRun(runId);
      const exec = executing.get(runId);
      if (taskId !== undefined) {
        await store.getTask(runId, taskId);
        if (!exec)
          throw new StaleStateError(
            `run ${runId} is not being executed by this engine; cancel the whole run`,
          );
        return exec.cancelTask(taskId, by);
      }
      if (isTerminalRunState(run.status)) return;
      await store.requestRunCancel(runId, by);
      if (exec) return exec.stop(by, 'cancel_requested');
      const lease = await store.getLease(runLeaseName(runId));
      const alive = lease !== undefined && lease.expiresAt >= clock.now() && !ownerIsDeadHere(lease.owner);
      // A live engine elsewhere will see the request on its next heartbeat.
      if (!alive) await cancelIdle(run, by);
    },
    async retry(runId, { by = 'unknown', tasks: only } = {}) {
      const run = await store.getRun(runId);
      if (!isTerminalRunState(run.status) || run.status === RunState.succeeded)
        throw new StaleStateError(
          `run ${runId} is ${run.status}: only a failed, cancelled or timed-out run can be retried`,
        );
      // A gated run that never got its approval (cancelled while waiting) stays unrun: a retry
      // goes straight to queued and would walk around the gate.
      const created = (await store.listTransitions(runId, null))[0];
      if (run.approvalDigest === null && created?.to === RunState.waitingForApproval)
        throw new RunNotApprovedError(runId);
      const tasks = await store.listTasks(runId);
      const byId = new Map(tasks.map((t) => [t.taskId, t]));
      const reopen = new Set<string>();
      const failedLike = new Set<string>([
        TaskState.failed,
        TaskState.timedOut,
        TaskState.cancelled,
        TaskState.blockedByPolicy,
      ]);
      for (const id of only ?? []) {
        const t = byId.get(id);
        if (!t || !failedLike.has(t.state)) throw new TaskNotRetryableError(runId, id, t?.state);
      }
      for (const t of tasks)
        if (failedLike.has(t.state) && (only === undefined || only.includes(t.taskId))) reopen.add(t.taskId);
      // Tasks skipped because of a reopened dependency re-open too (plan order is topological).
      for (const p of run.plan.tasks) {
        const t: TaskRecord = byId.get(p.id)!;
        const skippedByFailure =
          t.state === TaskState.skipped &&
          (t.reason === Reason.dependencyFailed || t.reason === Reason.dependencySkipped) &&
          p.needs.some((n) => reopen.has(n));
        if (skippedByFailure) reopen.add(p.id);
      }
      await store.clearRunCancel(runId);
      // The same path as every other transition: asserted, stored, then published.
      await transitionRun(ctx, runId, run.status, RunState.queued, Reason.retriedByUser, by);
      for (const id of reopen)
        await transitionTask(ctx, byId.get(id)!, TaskState.queued, Reason.retriedByUser, by, {
          retryBase: byId.get(id)!.attempts,
          firstStartedAt: null,
          notBefore: null,
        });
      return store.getRun(runId);
    },
    async approve(runId, { by, approvalDigest }) {
      const run = await store.getRun(runId);
      if (run.status !== RunState.waitingForApproval) throw new RunNotWaitingError(runId, run.status);
      try {
        await transitionRun(ctx, runId, run.status, RunState.queued, Reason.approvalGranted, by, {
          approvalDigest,
        });
      } catch (error) {
        // Another approval (or a cancel) moved it first: say what it is now.
        if (!(error instanceof StaleStateError)) throw error;
        throw new RunNotWaitingError(runId, (await store.getRun(runId)).status);
      }
      return store.getRun(runId);
    },
    async replay(runId, { taskId } = {}) {
      return replayRun(ctx, await store.getRun(runId), taskId);
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function reattemptCap(value: number | undefined): number {
  if (value === undefined) return 3;
  if (!Number.isInteger(value) || value < 0) throw new InvalidReattemptsError(value);
  return value;
}
