/**
 * What a run's tasks are resolved from: the run's source export (made once per run) and the
 * dispatch context (params, secrets, the needs' outputs: kept from the results this execution
 * stored, else read from the store).
 */
import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { EngineContext } from './context.ts';
import type { DispatchContext } from './dispatch.ts';
import { SourceUnavailableError } from './errors.ts';
import type { PlanTask } from '../core/index.ts';
import type { RunRecord } from './store/store.ts';
import { usesWorkloadIdentity } from './workload-identity.ts';

export class RunInputs {
  readonly #ctx: EngineContext;
  readonly #run: () => RunRecord;
  readonly #planTask: (taskId: string) => PlanTask;
  readonly #note: (text: string) => void;
  readonly #runSpan: () => Span | undefined;
  #sourceExport: Promise<string | undefined> | undefined;
  /** The export succeeded: every later attempt finds it at once. */
  #exported = false;
  /** The export started ahead of the run's attempts, settled either way (sourceReady). */
  #ready: Promise<void> | undefined;
  /**
   * The latest successful outputs of each task this execution stored (storedOutputs), as
   * `taskOutputs` would read them back: this execution is the run's only writer (its store is
   * fenced by the run lease), so they stay what the store holds until it stores another success.
   * A task stored by an earlier execution (a resume) is read from the store.
   */
  readonly #outputs = new Map<string, Record<string, string>>();

  constructor(
    ctx: EngineContext,
    run: () => RunRecord,
    planTask: (taskId: string) => PlanTask,
    note: (text: string) => void,
    runSpan: () => Span | undefined,
  ) {
    this.#runSpan = runSpan;
    this.#ctx = ctx;
    this.#run = run;
    this.#planTask = planTask;
    this.#note = note;
  }

  /** The run's read-only source export, made once per run (undefined: the run has no source). */
  sourceExport(): Promise<string | undefined> {
    const source = this.#run().source;
    if (!source) return Promise.resolve(undefined);
    const fetcher = this.#ctx.source;
    if (!fetcher) return Promise.reject(new SourceUnavailableError(source.repo));
    if (this.#sourceExport) return this.#sourceExport;
    // A span of the run's: the fetch and export are the start of push → first task running.
    const parent = this.#runSpan();
    const span = this.#ctx.tracer.startSpan(
      'maestro.source.export',
      { attributes: { 'maestro.run.id': this.#run().id, 'vcs.ref.head.revision': source.commit } },
      parent ? trace.setSpan(context.active(), parent) : context.active(),
    );
    // A failed export is not memoised: the next attempt (a retry, a resume) tries again.
    this.#sourceExport = fetcher.export(source, { runId: this.#run().id }).then(
      (dir) => {
        this.#exported = true;
        span.end();
        this.#note(`source: ${source.repo} at ${source.commit}`);
        return dir;
      },
      (error: unknown) => {
        this.#sourceExport = undefined;
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        throw error;
      },
    );
    return this.#sourceExport;
  }

  /**
   * Starts the run's source export before any of its tasks takes one of the engine's slots, and
   * settles when it did, either way: a slot then holds a running task, never a fetch (at 10
   * pushes/s, waiting for a slot held by another run's fetch was most of push → first task).
   * Undefined when there is nothing to wait for (no source, or already exported). A failed
   * export is not memoised: the attempt tries again and fails with its own error, as before.
   */
  sourceReady(): Promise<void> | undefined {
    if (this.#exported || !this.#run().source || !this.#ctx.source) return undefined;
    if (this.#ready) return this.#ready;
    const ready = this.sourceExport().then(
      () => undefined,
      () => undefined,
    );
    this.#ready = ready;
    void ready.then(() => {
      if (this.#ready === ready) this.#ready = undefined;
    });
    return ready;
  }

  /** A signed workload identity for a task that uses one (and only then: each is a signature). */
  async #workloadIdentity(run: RunRecord, taskId: string): Promise<{ workloadIdentity?: string }> {
    const issue = this.#ctx.workloadIdentity;
    const task = this.#planTask(taskId);
    if (!issue || !usesWorkloadIdentity(task)) return {};
    const workloadIdentity = await issue({
      runId: run.id,
      task: task.declaredId,
      namespace: run.namespace,
      workflow: run.workflow,
      planDigest: run.planDigest,
    });
    return { workloadIdentity };
  }

  /** Keeps `outputs` in the order the store reads them back (by name). */
  storedOutputs(taskId: string, outputs: Record<string, string>): void {
    const byName = Object.keys(outputs).sort();
    this.#outputs.set(taskId, Object.fromEntries(byName.map((name) => [name, outputs[name]!])));
  }

  async dispatchContext(taskId: string): Promise<DispatchContext> {
    const run = this.#run();
    // Resolution is synchronous and reads only the needs' outputs: they are read here first.
    const outputs = new Map<string, Record<string, string>>();
    for (const need of this.#planTask(taskId).needs)
      outputs.set(need, this.#outputs.get(need) ?? (await this.#ctx.store.taskOutputs(run.id, need)));
    return {
      runId: run.id,
      workflow: { name: run.workflow, namespace: run.namespace },
      params: run.params,
      // Only a trusted run's tasks get this engine's secrets: a fork's run executed by the trusted
      // engine (a worker's claim) must fare as on the untrusted engine, which has none.
      secrets: run.trust === 'trusted' ? this.#ctx.secrets : {},
      outputsOf: (id) => outputs.get(id) ?? {},
      declaredIdOf: (id) => this.#planTask(id).declaredId,
      catalog: this.#ctx.catalog,
      nodePath: this.#ctx.nodePath,
      taskNodeArgs: this.#ctx.taskNodeArgs,
      ...(await this.#workloadIdentity(run, taskId)),
    };
  }
}
