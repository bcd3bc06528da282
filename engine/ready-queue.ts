/** Ready tasks across runs: higher priority first, then first-come first-served. */
export interface QueueItem {
  runId: string;
  taskId: string;
  priority: number;
}

export class ReadyQueue {
  readonly #items: (QueueItem & { seq: number })[] = [];
  #seq = 0;

  push(item: QueueItem): void {
    const entry = { ...item, seq: this.#seq++ };
    // Binary search for the insertion point keeps pop O(1) and the order stable.
    let lo = 0;
    let hi = this.#items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const other = this.#items[mid]!;
      if (other.priority > entry.priority || (other.priority === entry.priority && other.seq < entry.seq))
        lo = mid + 1;
      else hi = mid;
    }
    this.#items.splice(lo, 0, entry);
  }

  /** Removes and returns the first item accepted by `admit` (e.g. its run has a free slot). */
  take(admit: (item: QueueItem) => boolean): QueueItem | undefined {
    const index = this.#items.findIndex(admit);
    if (index < 0) return undefined;
    return this.#items.splice(index, 1)[0];
  }

  removeRun(runId: string): QueueItem[] {
    const removed = this.#items.filter((i) => i.runId === runId);
    for (const item of removed) this.#items.splice(this.#items.indexOf(item), 1);
    return removed;
  }

  get size(): number {
    return this.#items.length;
  }
}
