/**
 * What `createEngine` takes (EngineOptions), what `submit` takes (SubmitOptions), and the Engine
 * it returns: the engine's public shape, apart from its wiring (engine.ts).
 */
import type { Logger } from 'pino';
import type { Tracer } from '@opentelemetry/api';
import type {
  Attestor,
  BuiltImageRecorder,
  Clock,
  Plan,
  PolicyChoice,
  PolicyOff,
  RandomSource,
  RunnerRegistry,
  RunSource,
  RunTrust,
  SourceFetcher,
  TaskCatalog,
  TelemetrySink,
} from '../core/index.ts';
import type { RemoteArtifacts } from './artifact-store/artifact-store.ts';
import type { BreakerOptions } from './breaker.ts';
import type { PriceTable } from './cost.ts';
import type { EngineListener } from './events.ts';
import type { ReplayReport } from './replay.ts';
import type { AsyncStore } from './store/async-store.ts';
import type {
  ApprovalKeys,
  SweepOptions,
  SweepResult,
  TaskApprovalCount,
  TaskApprovalRequest,
} from './approval-task/index.ts';
import type { RunRecord } from './store/store.ts';
import type { HttpProbe } from './wait/http-wait.ts';

import type { WorkloadIdentityIssuer } from './workload-identity.ts';

export interface EngineOptions {
  /** Either store (SQLite through its adapter, PostgreSQL natively: store/open-store.ts). */
  store: AsyncStore;
  /**
   * The approval key (and the decision log) for approval tasks (`uses: tasks/approval@1`):
   * `approveTask` signs with it and every count verifies against it. Without it a run still parks
   * at an approval task, and timeouts still apply, but nothing can approve it here.
   */
  approvals?: ApprovalKeys;
  runners: RunnerRegistry;
  /** Where attempts' work and artifacts directories live. */
  dataDir: string;
  catalog?: TaskCatalog;
  /** Required: a gate asked before every attempt, or the explicit policyOff(...) (never implied). */
  policy: PolicyChoice;
  attestor?: Attestor;
  /**
   * Signs the run's workload identity (`${workload.identity}`) for the tasks that use it
   * (provenance's createWorkloadIdentityIssuer over the receipts' key). Without it, such a task
   * fails at dispatch instead of getting an unsigned name.
   */
  workloadIdentity?: WorkloadIdentityIssuer;
  /** Stores an SBOM for each image a succeeded attempt reports it built (`image` messages). */
  builtImages?: BuiltImageRecorder;
  clock?: Clock;
  random?: RandomSource;
  logger?: Logger;
  tracer?: Tracer;
  /**
   * Where the console is reachable (MAESTRO_PUBLIC_URL, `--public-url`): an attempt's span gets
   * `cicd.pipeline.task.run.url.full`, its task's page there. Absent: no URL attribute.
   */
  publicUrl?: string;
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
   * The code digest of a locked catalog task's folder, checked against the plan's before it runs:
   * the runtime passes tasks/'s (its files and the SDK those arguments make it run with).
   * Default: the folder's package digest.
   */
  catalogTaskDigest?: (folder: string) => Promise<string>;
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
  /** What attempts cost (budgets, usage): the operator's table, else DEFAULT_PRICE_TABLE. */
  prices?: PriceTable;
  /**
   * The HTTP request of a `wait` task's condition (the runtime passes the http task's, with its
   * redirect and egress rules). Unset: such a wait fails with `wait_probe_unavailable`.
   */
  httpProbe?: HttpProbe;
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
  /**
   * This engine takes the run's lease before the run is stored, so no other replica's worker can
   * claim it between the submit and this engine's `execute` (the App's runs: only the dispatching
   * process holds what the run needs from GitHub and reports its check run). Needs `runId`.
   * Unrenewed until `execute`: a process that dies before it leaves the run to any worker after
   * one lease TTL, as a crash would.
   */
  reserve?: boolean;
  /** The repository at the exact commit the tasks run on (recorded with the run, attested). */
  source?: RunSource;
  /**
   * The W3C `traceparent` the run's trace continues (an API caller's, a webhook delivery's span);
   * stored with the run when valid, so whichever process executes it joins that trace.
   */
  traceParent?: string;
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
  /** `reserve`: hold the run's lease from the move to queued (as SubmitOptions.reserve): the caller executes it. */
  retry(
    runId: string,
    options?: { by?: string; tasks?: readonly string[]; reserve?: boolean },
  ): Promise<RunRecord>;
  /**
   * Releases a run waiting for approval: `waiting_for_approval -> queued` (reason
   * `approval_granted`) with the attestation digest its receipts will cite, in one compare-and-set.
   * RunNotWaitingError when the run is not waiting (already released, cancelled, never gated).
   */
  approve(runId: string, options: { by: string; approvalDigest: string }): Promise<RunRecord>;
  /**
   * A reviewer approves a waiting approval task (engine/approval-task/): checked (the run's author
   * never; only the task's reviewers or teams), signed with the approval key, stored once per
   * reviewer, logged; once the task's count is met it succeeds and the run goes back to queued.
   */
  approveTask(
    runId: string,
    taskId: string,
    request: TaskApprovalRequest,
    /** `reserve`: hold the run's lease when the approval sends it back to queued (see retry). */
    options?: { reserve?: boolean },
  ): Promise<{ recorded: boolean; count: TaskApprovalCount; run: RunRecord }>;
  /** Counts an approval task's approvals as they stand (verified rows only). */
  countTaskApprovals(runId: string, taskId: string): Promise<TaskApprovalCount>;
  /**
   * Applies passed approval timeouts and settles parked runs, holding the store's named lease
   * `sweep:approvals` (skipped while another sweeper holds it); every process that serves a role
   * calls it on a timer (startApprovalSweeper).
   */
  sweepApprovals(options?: SweepOptions): Promise<SweepResult>;
  /**
   * Takes the run's lease for this engine (RunBusyError while another live engine holds it), so
   * that no worker claims the run before this engine executes it; resolves to its release.
   */
  reserve(runId: string): Promise<() => Promise<void>>;
  subscribe(listener: EngineListener): () => void;
  /** Re-executes a run's successful tasks with their recorded inputs and compares the results. */
  replay(runId: string, options?: { taskId?: string }): Promise<ReplayReport>;
}
