import { StringDecoder } from 'node:string_decoder';
import type { LogLine, Stream } from '../../core/index.ts';
import type { Redactor } from '../../core/index.ts';

/** Default cap on one log line, in characters: a longer line is emitted in pieces. */
export const MAX_LINE_CHARS = 1 << 20;

/**
 * Turns a byte stream into complete, redacted log lines, for every runner. Chunks may cut a line
 * (or a UTF-8 character, or a secret) anywhere, so text is held until its newline arrives and only
 * whole lines are redacted; `end()` flushes the partial last line. A line longer than
 * `maxLineChars` is emitted in pieces of at most that length, so memory stays bounded; a secret
 * straddling such a cut must not escape, so text is redacted before it is cut, and of a line
 * still waiting for its newline the last
 * `redact.longest - 1` characters are held back: a secret that begins there is seen whole with
 * the next chunk, and any secret that begins earlier ends inside what was redacted.
 */
export class LineSplitter {
  readonly #stream: Stream;
  readonly #redact: Redactor;
  readonly #emit: (line: LogLine) => void;
  readonly #now: () => number;
  readonly #maxLine: number;
  readonly #decoder = new StringDecoder('utf8');
  #pending = '';

  constructor(
    stream: Stream,
    redact: Redactor,
    emit: (line: LogLine) => void,
    now: () => number,
    maxLineChars = MAX_LINE_CHARS,
  ) {
    this.#stream = stream;
    this.#redact = redact;
    this.#emit = emit;
    this.#now = now;
    this.#maxLine = Math.max(1, maxLineChars);
  }

  write(chunk: Uint8Array | string): void {
    let text = this.#pending + (typeof chunk === 'string' ? chunk : this.#decoder.write(chunk));
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      this.#line(text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    this.#pending = text.length > this.#maxLine ? this.#cutLong(text) : text;
  }

  end(): void {
    const rest = this.#pending + this.#decoder.end();
    this.#pending = '';
    if (rest.length > 0) this.#line(rest);
  }

  /** Emits full pieces of an over-long partial line; returns what must wait for more text. */
  #cutLong(text: string): string {
    const redacted = this.#redact(text);
    const cut = redacted.length - Math.max(0, this.#redact.longest - 1);
    if (cut <= 0) return redacted;
    let start = 0;
    for (; start + this.#maxLine <= cut; start += this.#maxLine)
      this.#push(redacted.slice(start, start + this.#maxLine));
    return redacted.slice(start);
  }

  /** A complete line is redacted whole, then cut to the cap (no secret can straddle a cut). */
  #line(raw: string): void {
    const text = this.#redact(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (text.length <= this.#maxLine) return this.#push(text);
    for (let start = 0; start < text.length; start += this.#maxLine)
      this.#push(text.slice(start, start + this.#maxLine));
  }

  #push(text: string): void {
    this.#emit({ stream: this.#stream, text, time: this.#now() });
  }
}
