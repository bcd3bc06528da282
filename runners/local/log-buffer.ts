import type { LogLine } from '../../core/index.ts';

/**
 * The lines of one attempt, kept in memory until the attempt's handle is dropped, so every call
 * of `logs()` replays from the first line and then follows live output until the attempt ends.
 * The engine is expected to consume and persist them; the runner does not write logs anywhere.
 */
export class LogBuffer {
  readonly #lines: LogLine[] = [];
  #closed = false;
  #wake: Array<() => void> = [];

  push(line: LogLine): void {
    if (this.#closed) return;
    this.#lines.push(line);
    this.#notify();
  }

  close(): void {
    this.#closed = true;
    this.#notify();
  }

  snapshot(): readonly LogLine[] {
    return this.#lines;
  }

  async *follow(): AsyncGenerator<LogLine> {
    let index = 0;
    for (;;) {
      while (index < this.#lines.length) yield this.#lines[index++] as LogLine;
      if (this.#closed) return;
      await new Promise<void>((resolve) => this.#wake.push(resolve));
    }
  }

  #notify(): void {
    if (this.#wake.length === 0) return;
    const wake = this.#wake;
    this.#wake = [];
    for (const resolve of wake) resolve();
  }
}
