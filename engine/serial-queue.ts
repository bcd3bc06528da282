/**
 * Runs async work one piece at a time, in the order it was asked for. Each run's events (an
 * attempt started or finished, a readiness pass, a cancel, the close) go through one of these, so
 * a stretch that reads the run's in-memory state, stores a transition and then updates that state
 * is never interleaved with another such stretch of the same run while it awaits the store
 * (engine/store/README.md, "What the engine switch needs"). Written by hand: it is a promise
 * chain of a few lines, and no dependency of the project offers one.
 *
 * Work queued from inside a piece of work waits for that piece to end: a piece must never await
 * work it queued itself (that would wait for itself).
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(work);
    // A failed piece is its caller's to handle; the pieces after it still run.
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Settles once every piece queued so far has ended. */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}
