/**
 * The engine's public object: submit a plan as a run, execute it (or resume it after a crash),
 * cancel, retry the failed part, and subscribe to events. One instance may execute many runs at
 * once within its concurrency limits.
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { trace } from '@opentelemetry/api';
import pino from 'pino';
import {
  Reason,
  RunState,
  isTerminalRunState,
  systemClock,
  systemRandom,
  type Plan,
  isPolicyOff,
  type PolicyChoice,
} from '../core/index.ts';
import { createRedactor, packageDigest } from '../core/index.ts';
import { CircuitBreaker } from './breaker.ts';
import { SharedEstimates } from './budget-reads.ts';
import { loadOrCreateCacheSecret } from './cache-secret.ts';
import { DEFAULT_PRICE_TABLE } from './cost.ts';
import type { EngineContext } from './context.ts';
import type { Engine, EngineOptions } from './engine-options.ts';
import {
  ApprovalPendingError,
  PolicyRequiredError,
  RunNotWaitingError,
  InvalidReattemptsError,
  RunnerNotConfiguredError,
  RunnerPlacementError,
  StaleStateError,
} from './errors.ts';
import type { EngineEvent, EngineListener } from './events.ts';
import { resolveParams } from './params.ts';
import { replayRun } from './replay.ts';
import { reattachRunning } from './recover-run.ts';
import { RunExecution } from './run-execution.ts';
import { cancelIdle, retryRun } from './run-commands.ts';
import { Scheduler } from './scheduler.ts';
import { transitionRun } from './transitions.ts';
import { approveTask, countApprovalsOfTask, isParked, sweepApprovals } from './approval-task/index.ts';
import { normalTraceParent } from './trace-context.ts';
import { createRunKeeper, fencedStore, ownerIsDeadHere, takeRunLease } from './run-lease.ts';
import { runLeaseName, runOfLease } from './store/async-store.ts';
import type { Lease, RunRecord, TaskRecord } from './store/store.ts';

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
    builtImages: options.builtImages,
    workloadIdentity: options.workloadIdentity,
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
    catalogTaskDigest: options.catalogTaskDigest ?? packageDigest,
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
    prices: options.prices ?? DEFAULT_PRICE_TABLE,
    estimates: new SharedEstimates(),
    publicUrl: options.publicUrl,
    httpProbe: options.httpProbe,
    telemetry: options.telemetry,
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
    held?: Lease & { run?: RunRecord; tasks?: TaskRecord[] },
  ): Promise<RunRecord> {
    // A claim may hand the run over as it read it right after taking the lease (PostgreSQL).
    let run = held?.run ?? (await store.getRun(runId));
    if (isTerminalRunState(run.status)) {
      if (held) await store.releaseLease(held.name, ctx.owner, held.token);
      return run;
    }
    // Fail closed: a gated run executes nothing before its approval moved it to queued (the
    // state only ever leaves waiting_for_approval for queued or cancelled).
    if (run.status === RunState.waitingForApproval) throw new ApprovalPendingError(runId);
    const lease: Lease = held
      ? { name: held.name, owner: held.owner, token: held.token, expiresAt: held.expiresAt }
      : await takeRunLease(ctx, runId);
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
      // A claim that handed the run over handed its tasks over too (read under the lease).
      await exec.start(reattached, held?.run ? held.tasks : undefined);
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

  /**
   * With `reserve`, runs `command` (which may move the run back to queued) holding the run's
   * lease, as `submit` does: the caller executes the run next, and no other worker may claim it
   * in between. The lease is let go when the run did not become queued (or the command failed).
   */
  async function reserved<T extends RunRecord | { run: RunRecord }>(
    runId: string,
    reserve: boolean | undefined,
    command: () => Promise<T>,
  ): Promise<T> {
    if (!reserve) return command();
    const lease = await takeRunLease(ctx, runId);
    const release = () => store.releaseLease(lease.name, ctx.owner, lease.token);
    try {
      const result = await command();
      const run: RunRecord = 'run' in result ? result.run : (result as RunRecord);
      if (run.status !== RunState.queued) await release();
      return result;
    } catch (error) {
      await release();
      throw error;
    }
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

  return {
    store,
    policyOff: isPolicyOff(options.policy) ? options.policy : undefined,
    checkRunners,
    async submit(plan, submit = {}) {
      // A runner the operator has not configured is the manifest's error, before anything is stored.
      checkRunners(plan);
      const id = submit.runId ?? `r-${randomUUID()}`;
      // The run's lease row before the run: createRun keeps an existing one (ON CONFLICT DO
      // NOTHING on PostgreSQL; SQLite writes none), and claimRun skips a run whose lease is live.
      if (submit.reserve) await takeRunLease(ctx, id);
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
        // Only a well-formed one is kept: the stored value reaches logs and tasks' environments.
        traceParent: normalTraceParent(submit.traceParent) ?? null,
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
        of: { workflow: record.workflow, namespace: record.namespace, createdAt: record.createdAt },
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
      if (!alive) await cancelIdle(ctx, run, by);
    },
    retry(runId, { by = 'unknown', tasks, reserve } = {}) {
      return reserved(runId, reserve, () => retryRun(ctx, runId, by, tasks));
    },
    async approve(runId, { by, approvalDigest }) {
      const run = await store.getRun(runId);
      if (run.status !== RunState.waitingForApproval) throw new RunNotWaitingError(runId, run.status);
      // A run parked by an approval task waits for that task's approvals, never a run-level grant.
      if (isParked(run)) throw new RunNotWaitingError(runId, 'waiting on an approval task');
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
    approveTask(runId, taskId, request, { reserve } = {}) {
      return reserved(runId, reserve, () => approveTask(ctx, options.approvals, runId, taskId, request));
    },
    countTaskApprovals(runId, taskId) {
      return countApprovalsOfTask(ctx, options.approvals, runId, taskId);
    },
    sweepApprovals(sweep) {
      return sweepApprovals(ctx, options.approvals, sweep);
    },
    async reserve(runId) {
      const lease = await takeRunLease(ctx, runId);
      return () => store.releaseLease(lease.name, ctx.owner, lease.token);
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
