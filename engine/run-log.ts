/**
 * A run's log lines: published at once (like the runner's lines, log-pump.ts) and stored in the
 * order they were published, through their own serial queue apart from the run's events.
 */
import { describeError, type Stream } from '../core/index.ts';
import type { EngineContext } from './context.ts';
import { SerialQueue } from './serial-queue.ts';
import type { StoredLogLine } from './store/store.ts';

export class RunLog {
  readonly #ctx: () => EngineContext;
  readonly #runId: string;
  readonly #queue = new SerialQueue();

  /** `ctx` is read on each write: the execution's store is its fenced view (run-lease.ts). */
  constructor(ctx: () => EngineContext, runId: string) {
    this.#ctx = ctx;
    this.#runId = runId;
  }

  /** Settles once `lines` (after every line appended before them) are stored; rejects if refused. */
  append(lines: StoredLogLine[]): Promise<void> {
    if (lines.length === 0) return this.#queue.idle();
    return this.#queue.run(() => this.#ctx().store.appendLogs(lines));
  }

  /** Publishes the line, then stores it; a store failure is logged, never thrown. */
  line(taskId: string | null, attempt: number | null, stream: Stream, text: string): Promise<void> {
    const ctx = this.#ctx();
    const runId = this.#runId;
    const time = ctx.clock.now();
    const line = ctx.redactAll(text);
    ctx.emit({ type: 'log', runId, taskId, attempt, stream, text: line, time });
    return this.append([{ runId, taskId, attempt, stream, text: line, time }]).catch((error: unknown) =>
      ctx.logger.error({ runId, taskId, err: describeError(error) }, 'log not stored'),
    );
  }

  /** Resolves once every line published so far is stored (or refused). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }
}
