import type { LogLine } from '../../core/index.ts';

/** A single-consumer queue of log lines that ends when the attempt ends (container, kubernetes). */
export class LogChannel implements AsyncIterable<LogLine> {
  readonly #buffer: LogLine[] = [];
  #closed = false;
  #wake: (() => void) | undefined;

  push(line: LogLine): void {
    if (this.#closed) return;
    this.#buffer.push(line);
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<LogLine> {
    for (;;) {
      const next = this.#buffer.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}
