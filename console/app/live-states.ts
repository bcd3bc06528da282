/**
 * Task states from the event stream, applied to the graph at once, ahead of the run's next
 * reload: each `task` event recolours its box in the next frame without a render of the page,
 * and the (throttled) reload of GET /v1/runs/{id} stays the truth. A reload settles the patches
 * it already reflects (the ones received before it was asked for), so a later, older answer
 * never paints over a newer event. Why patch at all: at 5,000 tasks a reload is a large answer,
 * and 1,000 changes a second reloaded one by one would fall behind (bench/console).
 */
export class LiveStates {
  readonly #patches = new Map<string, { state: string; seq: number }>();
  #seq = 0;
  /** Events applied since the page opened (bench/console counts them against those written). */
  applied = 0;
  #listener: (() => void) | undefined;

  apply(task: string, state: string): void {
    this.#patches.set(task, { state, seq: ++this.#seq });
    this.applied += 1;
    this.#listener?.();
  }

  /** The position to pass to `settle` once a reload asked for now has landed. */
  mark(): number {
    return this.#seq;
  }

  settle(upTo: number): void {
    for (const [task, p] of this.#patches) if (p.seq <= upTo) this.#patches.delete(task);
  }

  stateOf(task: string): string | undefined {
    return this.#patches.get(task)?.state;
  }

  /** The one view that repaints on a change (the DAG view). */
  listen(listener: (() => void) | undefined): void {
    this.#listener = listener;
  }
}
