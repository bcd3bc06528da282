import type { Clock } from '../../core/index.ts';
import { isTerminalRunState, type RunState } from '../../core/index.ts';
import type { Engine, EngineEvent } from '../../engine/index.ts';
import type { AppStore } from '../app-store.ts';
import { writeCheckRun } from '../checks/check-runs.ts';
import type { GitHubClient } from '../github/github-client.ts';
import { renderRun } from '../checks/render-run.ts';
import { postPrComments } from './pr-comments.ts';

export interface RunReporterOptions {
  engine: Engine;
  client: GitHubClient;
  store: AppStore;
  clock: Clock;
  runId: string;
  headSha: string;
  /** At most one intermediate update per this many ms; the final state is always written. */
  intervalMs: number;
  onError: (error: unknown) => void;
  /** The pull request the run is for: its notify tasks' pr-comment requests are posted there. */
  pullRequest?: number;
  /** The App's id (only a comment the App wrote is updated). */
  appId?: number;
}

/**
 * Mirrors one run into its check run with a bounded number of writes: engine events only mark
 * the view dirty; a write happens at start, then at most once per interval while the run is
 * live, and once when it ends. A 50-task run therefore costs a handful of writes, not one per
 * task transition. Writes are serialised, and each renders the latest stored state.
 */
export class RunReporter {
  readonly #o: RunReporterOptions;
  #dirty = true;
  #writing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #lastWrite = -Infinity;
  #finished = false;
  readonly #unsubscribe: () => void;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;

  constructor(options: RunReporterOptions) {
    this.#o = options;
    this.#done = new Promise((resolve) => (this.#resolveDone = resolve));
    this.#unsubscribe = options.engine.subscribe((event) => this.#onEvent(event));
  }

  get runId(): string {
    return this.#o.runId;
  }

  /** Resolves after the final write (the run reached a terminal state). */
  get done(): Promise<void> {
    return this.#done;
  }

  start(): void {
    this.#flush();
  }

  #onEvent(event: EngineEvent): void {
    if (event.runId !== this.#o.runId || event.type === 'log') return;
    this.#dirty = true;
    // Parked by an approval task: the run holds no process until an approval sends it back to
    // queued, and whoever executes it then reports it with a reporter of its own.
    const parked = event.type === 'run' && event.to === 'waiting_for_approval';
    if (event.type === 'run' && (parked || isTerminalRunState(event.to as RunState))) {
      this.#finished = true;
      this.#flush();
      return;
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastWrite + this.#o.intervalMs - this.#o.clock.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flush();
    }, wait);
  }

  /** notify's pr-comment requests (app/dispatch/pr-comments.ts), once the run has ended. */
  async #postComments(): Promise<void> {
    const { pullRequest, appId } = this.#o;
    if (pullRequest === undefined) return;
    try {
      await postPrComments({
        engine: this.#o.engine,
        client: this.#o.client,
        runId: this.#o.runId,
        pullRequest,
        ...(appId !== undefined ? { appId } : {}),
      });
    } catch (error) {
      this.#o.onError(error);
    }
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const final = this.#finished;
    this.#writing = this.#writing.then(async () => {
      if (!this.#dirty && !final) return;
      this.#dirty = false;
      this.#lastWrite = this.#o.clock.now();
      try {
        await writeCheckRun(
          this.#o.client,
          this.#o.store,
          await renderRun(this.#o.engine, this.#o.runId, this.#o.headSha),
        );
      } catch (error) {
        this.#o.onError(error);
      }
      if (final) {
        if (isTerminalRunState((await this.#o.engine.store.getRun(this.#o.runId)).status))
          await this.#postComments();
        this.#unsubscribe();
        this.#resolveDone();
      }
    });
  }
}
