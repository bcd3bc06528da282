/**
 * The OpenTelemetry CI/CD semantic conventions' metrics (and Maestro's own task metrics) on the
 * server's registry, under the names the OpenTelemetry Prometheus exporter gives them
 * (docs/observability.md has the mapping). Fed from the engine's events as they are published,
 * not by polling the store. The pipeline name comes with the run's events where the process
 * publishing them holds the run (`of`: its submit, its executor); only a run first seen through
 * an event without it (a cancel or an approval of a run this process neither queued nor
 * executes) costs one getRun for its name.
 *
 * Bounded cardinality, as the conventions require: the labels are the pipeline (workflow) name,
 * closed sets (states, results, transition reasons, error codes) and nothing per run. Run ids,
 * task ids and SHAs are never labels; the per-run state kept here (to measure durations) is
 * dropped when the run ends.
 *
 * Every process publishes the transitions its own engine stores: with separate `api` and
 * `worker` processes (or replicas) a run is queued in one and executed in another, so the gauge
 * moves by each event's `from` and `to` and is right summed over the processes.
 */
import type { Logger } from 'pino';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine, EngineEvent, RunOf } from '../engine/index.ts';
import type { WorkerSlots } from './worker.ts';

type RunEvent = Extract<EngineEvent, { type: 'run' }>;
type TaskEvent = Extract<EngineEvent, { type: 'task' }>;
type Bucket = 'pending' | 'executing';

/** The conventions' `cicd.pipeline.result` for a run's terminal state. */
export function pipelineResult(state: string, systemErrorOnly: boolean): string | undefined {
  switch (state) {
    case 'succeeded':
      return 'success';
    case 'failed':
      // `error`: the CI/CD system failed the run (a runner broke), not the pipeline's code.
      return systemErrorOnly ? 'error' : 'failure';
    case 'cancelled':
      return 'cancellation';
    case 'timed_out':
      return 'timeout';
    default:
      return undefined;
  }
}

/** The `cicd.pipeline.run.state` a stored run state counts under; undefined once it is over. */
function bucketOf(state: string): Bucket | undefined {
  if (state === 'queued' || state === 'waiting_for_approval') return 'pending';
  return state === 'running' ? 'executing' : undefined;
}

const TERMINAL_TASK = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'skipped',
  'cached',
  'timed_out',
  'blocked_by_policy',
]);
const TASK_ERRORS = new Set(['failed', 'timed_out']);
/** Task reasons that are the CI/CD system's fault, with the component they are counted under. */
const SYSTEM_REASONS: Record<string, string> = {
  runner_error: 'runner',
  circuit_open: 'runner',
  policy_unavailable: 'policy',
};

interface RunTrack {
  name: Promise<string>;
  /** The run's workflow, namespace and creation time, once an event carried them. */
  of?: RunOf;
  chain: Promise<void>;
  pendingSince?: number;
  waitingSince?: number;
  executingSince?: number;
  taskFailure: boolean;
  systemError: boolean;
  tasks: Map<string, { readyAt?: number; runningAt?: number }>;
}

interface Instruments {
  runDuration: Histogram<'cicd_pipeline_name' | 'cicd_pipeline_run_state' | 'cicd_pipeline_result'>;
  runActive: Gauge<'cicd_pipeline_name' | 'cicd_pipeline_run_state'>;
  runErrors: Counter<'cicd_pipeline_name' | 'error_type'>;
  systemErrors: Counter<'cicd_system_component' | 'error_type'>;
  taskDuration: Histogram<'cicd_pipeline_name' | 'maestro_task_result'>;
  taskQueue: Histogram<'cicd_pipeline_name'>;
  taskRetries: Counter<'cicd_pipeline_name'>;
  cacheHits: Counter<'cicd_pipeline_name'>;
  approvalWait: Histogram<'cicd_pipeline_name' | 'maestro_approval_outcome'>;
  recovery: Histogram<'cicd_pipeline_name'>;
}

export interface PipelineMetrics {
  /** Counts an error of a CI/CD system component (`cicd.system.errors`). */
  systemError(component: string, type: string): void;
  /** Stops listening to the engine. */
  close(): void;
}

/** Runs whose durations are being measured at once; far above any worker's slots. */
const MAX_TRACKED_RUNS = 10_000;
const RUN_BUCKETS = [0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200];
const TASK_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

async function instruments(registry: Registry, slots?: () => WorkerSlots): Promise<Instruments> {
  const client = await import('prom-client');
  const registers = [registry];
  if (slots)
    new client.Gauge({
      name: 'cicd_worker_count',
      help: 'The number of workers (run slots of this process) by state',
      labelNames: ['cicd_worker_state'],
      registers,
      collect() {
        for (const [state, value] of Object.entries(slots())) this.set({ cicd_worker_state: state }, value);
      },
    });
  return {
    runDuration: new client.Histogram({
      name: 'cicd_pipeline_run_duration_seconds',
      help: 'Duration of a pipeline run grouped by pipeline, state and result, in seconds',
      labelNames: ['cicd_pipeline_name', 'cicd_pipeline_run_state', 'cicd_pipeline_result'],
      buckets: RUN_BUCKETS,
      registers,
    }),
    runActive: new client.Gauge({
      name: 'cicd_pipeline_run_active',
      help: 'The number of pipeline runs currently active in the system by state',
      labelNames: ['cicd_pipeline_name', 'cicd_pipeline_run_state'],
      registers,
    }),
    runErrors: new client.Counter({
      name: 'cicd_pipeline_run_errors_total',
      help: 'The number of errors encountered in pipeline runs (a task that failed or timed out)',
      labelNames: ['cicd_pipeline_name', 'error_type'],
      registers,
    }),
    systemErrors: new client.Counter({
      name: 'cicd_system_errors_total',
      help: 'The number of errors in a component of the CI/CD system (worker, runner, policy)',
      labelNames: ['cicd_system_component', 'error_type'],
      registers,
    }),
    taskDuration: new client.Histogram({
      name: 'maestro_task_run_duration_seconds',
      help: 'Duration of a task attempt, running to its result, by pipeline and result, in seconds',
      labelNames: ['cicd_pipeline_name', 'maestro_task_result'],
      buckets: TASK_BUCKETS,
      registers,
    }),
    taskQueue: new client.Histogram({
      name: 'maestro_task_queue_duration_seconds',
      help: 'Time a task waited from ready to running, by pipeline, in seconds',
      labelNames: ['cicd_pipeline_name'],
      buckets: TASK_BUCKETS,
      registers,
    }),
    taskRetries: new client.Counter({
      name: 'maestro_task_retries_total',
      help: "Task retries scheduled by a task's retry policy, by pipeline",
      labelNames: ['cicd_pipeline_name'],
      registers,
    }),
    cacheHits: new client.Counter({
      name: 'maestro_task_cache_hits_total',
      help: 'Tasks answered from the cache instead of running, by pipeline',
      labelNames: ['cicd_pipeline_name'],
      registers,
    }),
    approvalWait: new client.Histogram({
      name: 'maestro_approval_wait_duration_seconds',
      help: 'Time a run waited for approval, by pipeline and outcome (granted, cancelled), in seconds',
      labelNames: ['cicd_pipeline_name', 'maestro_approval_outcome'],
      buckets: [1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 7 * 24 * 3600],
      registers,
    }),
    recovery: new client.Histogram({
      name: 'maestro_workflow_recovery_duration_seconds',
      help: 'Time to recovery of a workflow: from the end of its first failed run since its last success to the end of its next success, by pipeline, in seconds',
      labelNames: ['cicd_pipeline_name'],
      buckets: RUN_BUCKETS,
      registers,
    }),
  };
}

/** How long a run waited for approval, once it stops waiting (approved, or cancelled while waiting). */
function onApprovalWait(m: Instruments, track: RunTrack, name: string, e: RunEvent): void {
  if (e.to === 'waiting_for_approval') track.waitingSince = e.time;
  else if (e.from === 'waiting_for_approval' && track.waitingSince !== undefined) {
    const outcome = e.to === 'queued' ? 'granted' : e.to === 'cancelled' ? 'cancelled' : '_OTHER';
    m.approvalWait.observe(
      { cicd_pipeline_name: name, maestro_approval_outcome: outcome },
      (e.time - track.waitingSince) / 1000,
    );
    track.waitingSince = undefined;
  }
}

function onRun(m: Instruments, track: RunTrack, name: string, e: RunEvent): void {
  const from = e.from === null ? undefined : bucketOf(e.from);
  const to = bucketOf(e.to);
  // By the event's own `from`, not by what this process saw: with replicas on one store a run
  // is often queued by one process and executed by another, and the sum over them is then right.
  if (from !== to) {
    if (from) m.runActive.dec({ cicd_pipeline_name: name, cicd_pipeline_run_state: from });
    if (to) m.runActive.inc({ cicd_pipeline_name: name, cicd_pipeline_run_state: to });
  }
  // Durations need both ends, so only a process that saw a state begin times it.
  if (to === 'pending' && from !== 'pending') track.pendingSince = e.time;
  if (to === 'executing' && from !== 'executing') {
    if (track.pendingSince !== undefined)
      m.runDuration.observe(
        { cicd_pipeline_name: name, cicd_pipeline_run_state: 'pending' },
        (e.time - track.pendingSince) / 1000,
      );
    track.executingSince = e.time;
  }
  const result = pipelineResult(e.to, track.systemError && !track.taskFailure);
  if (result && from) {
    // A run cancelled before it started ends in the pending state.
    const since = from === 'executing' ? track.executingSince : track.pendingSince;
    if (since !== undefined)
      m.runDuration.observe(
        { cicd_pipeline_name: name, cicd_pipeline_run_state: from, cicd_pipeline_result: result },
        (e.time - since) / 1000,
      );
  }
}

function onTask(m: Instruments, track: RunTrack, name: string, e: TaskEvent): void {
  const t = track.tasks.get(e.taskId) ?? {};
  track.tasks.set(e.taskId, t);
  if (e.reason === 'retry_scheduled') m.taskRetries.inc({ cicd_pipeline_name: name });
  if (e.to === 'ready') t.readyAt = e.time;
  if (e.to === 'cached') m.cacheHits.inc({ cicd_pipeline_name: name });
  if (e.to === 'running') {
    if (t.readyAt !== undefined)
      m.taskQueue.observe({ cicd_pipeline_name: name }, (e.time - t.readyAt) / 1000);
    t.runningAt = e.time;
  }
  const component = SYSTEM_REASONS[e.reason];
  if (component) {
    track.systemError = true;
    m.systemErrors.inc({ cicd_system_component: component, error_type: e.reason });
  }
  if (TASK_ERRORS.has(e.to)) {
    if (!component) track.taskFailure = true;
    m.runErrors.inc({ cicd_pipeline_name: name, error_type: e.reason });
  }
  const ended = TERMINAL_TASK.has(e.to) || e.to === 'queued';
  if (ended && t.runningAt !== undefined && e.from === 'running')
    m.taskDuration.observe(
      // A retry's attempt ended failed (the task is queued again for the next one).
      { cicd_pipeline_name: name, maestro_task_result: e.to === 'queued' ? 'failed' : e.to },
      (e.time - t.runningAt) / 1000,
    );
  if (ended) t.runningAt = undefined;
  if (TERMINAL_TASK.has(e.to)) track.tasks.delete(e.taskId);
}

async function observeRecovery(
  m: Instruments,
  name: string,
  e: RunEvent,
  known: RunOf | undefined,
  options: {
    recovery?: (runId: string, endedAt: number, known?: RunOf) => Promise<number | undefined>;
    logger: Logger;
  },
): Promise<void> {
  try {
    const seconds = await options.recovery!(e.runId, e.time, known);
    if (seconds !== undefined) m.recovery.observe({ cicd_pipeline_name: name }, seconds);
  } catch (error) {
    options.logger.warn({ runId: e.runId, err: error }, 'metrics: no recovery time for a run');
  }
}

export async function startPipelineMetrics(options: {
  registry: Registry;
  engine: Engine;
  pipelineName: (runId: string) => Promise<string>;
  /**
   * Seconds a workflow had been failing when this run (just succeeded at `endedAt`) ended it;
   * undefined when it was not failing (recovery-time.ts). Without it, no recovery is measured.
   * `known`: the run's workflow, namespace and creation time when its events carried them.
   */
  recovery?: (runId: string, endedAt: number, known?: RunOf) => Promise<number | undefined>;
  /** The worker loop's run slots; without one (no `worker` role), no `cicd_worker_count`. */
  slots?: () => WorkerSlots;
  logger: Logger;
}): Promise<PipelineMetrics> {
  const m = await instruments(options.registry, options.slots);
  const runs = new Map<string, RunTrack>();
  const lookUp = (runId: string) =>
    options.pipelineName(runId).catch((error: unknown) => {
      options.logger.warn({ runId, err: error }, 'metrics: no pipeline name for a run');
      return '_OTHER';
    });
  const off = options.engine.subscribe((event) => {
    if (event.type === 'log') return;
    let track = runs.get(event.runId);
    const of = event.type === 'run' ? event.of : undefined;
    if (!track) {
      track = {
        name: of ? Promise.resolve(of.workflow) : lookUp(event.runId),
        ...(of ? { of } : {}),
        chain: Promise.resolve(),
        taskFailure: false,
        systemError: false,
        tasks: new Map(),
      };
      runs.set(event.runId, track);
      // A run queued here and executed by another replica never ends here: forget the oldest.
      if (runs.size > MAX_TRACKED_RUNS) runs.delete(runs.keys().next().value!);
    }
    if (of) track.of = of;
    const t = track;
    // One chain per run: the name lookup is async, the events must still apply in their order.
    t.chain = t.chain.then(async () => {
      const name = await t.name;
      if (event.type === 'run') {
        onApprovalWait(m, t, name, event);
        onRun(m, t, name, event);
        if (event.to === 'succeeded' && options.recovery)
          await observeRecovery(m, name, event, t.of, options);
      } else onTask(m, t, name, event);
      if (event.type === 'run' && pipelineResult(event.to, false) && runs.get(event.runId) === t)
        runs.delete(event.runId);
    });
  });
  return {
    systemError: (component, type) =>
      m.systemErrors.inc({ cicd_system_component: component, error_type: type }),
    close: () => off(),
  };
}
