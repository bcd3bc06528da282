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

  /**
   * Keeps `lines` (already published) in their place in the order for a write that stores them
   * itself: an attempt's last lines go in its result's transaction (AsyncStore.finishAttempt), one
   * commit instead of two. Lines published after them wait for that write, so the order stays the
   * order published. Not taken within `tailHoldMs`, they are stored alone (an attempt whose result
   * waits for artifacts to be shipped), so they stay in memory no longer than that.
   */
  hold(lines: StoredLogLine[]): HeldLines {
    let decide!: (alone: boolean) => void;
    const decided = new Promise<boolean>((resolve) => (decide = resolve));
    let begin!: () => void;
    const turn = new Promise<void>((resolve) => (begin = resolve));
    let state: 'held' | 'taken' | 'alone' = 'held';
    const stored = this.#queue.run(async () => {
      begin();
      if (await decided) await this.#store(lines);
    });
    const alone = (): void => {
      state = 'alone';
      clearTimeout(timer);
      decide(true);
    };
    const timer = setTimeout(() => state === 'held' && alone(), tailHoldMs);
    return {
      take: async () => {
        await turn;
        if (state === 'alone') {
          await stored;
          return [];
        }
        state = 'taken';
        clearTimeout(timer);
        return lines;
      },
      settle: async (withResult) => {
        if (state !== 'taken') return;
        if (withResult) decide(false);
        else alone();
        await stored;
      },
    };
  }

  /** Stores lines alone; a refusal is logged (their writer has no one to tell). */
  async #store(lines: StoredLogLine[]): Promise<void> {
    if (lines.length === 0) return;
    const ctx = this.#ctx();
    try {
      await ctx.store.appendLogs(lines);
    } catch (error) {
      ctx.logger.error({ runId: this.#runId, err: describeError(error) }, 'log not stored');
    }
  }
}

/** How long an attempt's last lines wait for its result's transaction before they are stored alone. */
export const tailHoldMs = 25;

/** Log lines held in their place in a run's order (RunLog.hold). */
export interface HeldLines {
  /**
   * Resolves, once every line published before them is stored, to the lines for the caller's
   * write to store ([] when they were stored alone meanwhile); the caller must then `settle`.
   */
  take(): Promise<StoredLogLine[]>;
  /**
   * After the write: `true`, they were stored with it; `false` (refused), they are stored alone
   * now. Resolves once they are (or were refused: logged).
   */
  settle(withResult: boolean): Promise<void>;
}
