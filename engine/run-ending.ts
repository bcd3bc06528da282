/**
 * The last phase of an execution: once nothing is open, running or deferred, the run closes
 * (its final state and receipt, every log line stored, then `done`); once all that is left open
 * waits on approval tasks, the run parks instead (stored `waiting_for_approval`, holding no
 * process and no lease: approval-task/ puts it back to `queued`, and whoever claims it carries
 * on from what was stored). Given up (abandon), it ends without writing anything more.
 */
import type { Span } from '@opentelemetry/api';
import { SpanStatusCode } from '@opentelemetry/api';
import { Reason, RunState, TaskState, describeError, type Stream } from '../core/index.ts';
import type { EngineContext } from './context.ts';
import type { RunView } from './run-view.ts';
import type { StartingRun } from './run-start.ts';
import { closeRun } from './run-start.ts';
import type { StopReason } from './run-stop.ts';
import type { RunRecord, TaskRecord } from './store/store.ts';

/** What ending needs from the run executing (RunExecution hands it over at construction). */
export interface EndingHost {
  readonly ctx: EngineContext;
  readonly runId: string;
  readonly view: RunView;
  run(): RunRecord;
  span(): Span | undefined;
  stopping(): { by: string; reason: StopReason } | undefined;
  /** The execution itself, as the close's receipt and final transition see it. */
  readonly exec: StartingRun;
  serial<T>(work: () => Promise<T>): Promise<T>;
  transitionRun(to: RunState, reason: Reason, by: string): Promise<void>;
  runLog(stream: Stream, text: string): Promise<void>;
  /** Settles once every log line published so far is stored. */
  logsIdle(): Promise<void>;
  /** Ends the run's timers (its timeout, retries' waits). */
  abortTimers(): void;
  /** Takes the run off the scheduler. */
  detach(): void;
}

export class RunEnding {
  readonly #host: EndingHost;
  #finish!: (run: RunRecord) => void;
  readonly done: Promise<RunRecord>;
  #finishing = false;

  constructor(host: EndingHost) {
    this.#host = host;
    this.done = new Promise((resolve) => (this.#finish = resolve));
  }

  /** True once the run is closing or parking: nothing more is started. */
  get finishing(): boolean {
    return this.#finishing;
  }

  /**
   * Called inside the queue when nothing is running or deferred (and the run is still held):
   * closes the run once no task is open, else parks it if only approvals are left.
   */
  whenIdle(): void {
    if (this.#finishing) return;
    if (this.#host.view.open > 0) return this.#maybePark();
    const tasks = this.#host.view.all();
    this.#finishing = true;
    this.#host.abortTimers();
    void this.#host
      .serial(() => this.#close(tasks))
      .catch((error: unknown) => {
        // The run stays open in the store (a resume finishes it); the caller must not hang.
        this.#host.ctx.logger.error(
          { runId: this.#host.runId, err: describeError(error) },
          'run could not be closed',
        );
        this.end();
      });
  }

  /**
   * Ends the execution: the run's span, its place on the scheduler (unless taken off already: a
   * run given up), then `done` with the run as last seen.
   */
  end(detach = true): void {
    this.#host.span()?.end();
    if (detach) this.#host.detach();
    this.#finish(this.#host.run());
  }

  #maybePark(): void {
    if (this.#host.stopping()) return;
    const tasks = this.#host.view.all();
    if (!tasks.some((t) => t.state === TaskState.waitingForApproval)) return;
    const busy = (t: TaskRecord) =>
      t.state === TaskState.ready ||
      t.state === TaskState.running ||
      (t.state === TaskState.queued && t.notBefore !== null);
    if (tasks.some(busy) || this.#host.view.hasCandidates()) return;
    this.#finishing = true;
    this.#host.abortTimers();
    void this.#host
      .serial(async () => {
        const host = this.#host;
        await host.transitionRun(
          RunState.waitingForApproval,
          Reason.approvalRequired,
          `engine:${host.ctx.owner}`,
        );
        void host.runLog(
          'system',
          'waiting for approval: the run holds no process until its approvals arrive',
        );
        await host.logsIdle();
        host.span()?.setAttribute('maestro.run.status', RunState.waitingForApproval);
        this.end();
      })
      .catch((error: unknown) => {
        this.#host.ctx.logger.error(
          { runId: this.#host.runId, err: describeError(error) },
          'run could not be parked',
        );
        this.end();
      });
  }

  async #close(tasks: TaskRecord[]): Promise<void> {
    const host = this.#host;
    await closeRun(host.exec, host.stopping(), tasks);
    // Every line published so far is stored before the run is reported done.
    await host.logsIdle();
    host.span()?.setAttribute('maestro.run.status', host.run().status);
    host.span()?.setStatus({
      code: host.run().status === RunState.succeeded ? SpanStatusCode.OK : SpanStatusCode.ERROR,
    });
    this.end();
  }
}
