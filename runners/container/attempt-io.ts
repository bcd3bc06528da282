/**
 * Small pieces both cluster runners (container, kubernetes) share: a log channel the engine reads
 * as an async iterable, a splitter that turns byte chunks into redacted lines, and the parser of
 * `key=value` outputs. Kept free of any backend client so each runner stays a thin adapter.
 */
import type { Clock, LogLine, Stream } from '../../core/index.ts';

/** A single-consumer queue of log lines that ends when the attempt ends. */
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

/** Replaces every secret value with `***`; longest first so overlapping secrets never leak a part. */
export function makeRedactor(secrets: readonly string[]): (text: string) => string {
  const values = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length);
  return (text) => values.reduce((out, value) => out.split(value).join('***'), text);
}

/** Turns chunks of one stream into complete lines pushed to a channel; `flush` emits the rest. */
export class LineSplitter {
  readonly #stream: Stream;
  readonly #channel: LogChannel;
  readonly #redact: (text: string) => string;
  readonly #clock: Clock;
  readonly #decoder = new TextDecoder();
  #pending = '';

  constructor(stream: Stream, channel: LogChannel, redact: (text: string) => string, clock: Clock) {
    this.#stream = stream;
    this.#channel = channel;
    this.#redact = redact;
    this.#clock = clock;
  }

  write(chunk: Uint8Array | string): void {
    this.#pending += typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    const parts = this.#pending.split('\n');
    this.#pending = parts.pop() ?? '';
    for (const part of parts) this.#emit(part.endsWith('\r') ? part.slice(0, -1) : part);
  }

  flush(): void {
    this.#pending += this.#decoder.decode();
    if (this.#pending.length > 0) this.#emit(this.#pending);
    this.#pending = '';
  }

  #emit(text: string): void {
    this.#channel.push({ stream: this.#stream, text: this.#redact(text), time: this.#clock.now() });
  }
}

/**
 * Parses `key=value` lines (the MAESTRO_OUTPUT convention). Blank lines and lines without `=`
 * are ignored; a later key wins. Only declared names are kept when `declared` is non-empty.
 */
export function parseOutputs(text: string, declared: readonly string[]): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (declared.length > 0 && !declared.includes(key)) continue;
    outputs[key] = line.slice(eq + 1);
  }
  return outputs;
}
