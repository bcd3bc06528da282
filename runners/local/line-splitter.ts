import { StringDecoder } from 'node:string_decoder';
import type { LogLine, Stream } from '../../core/index.ts';
import type { Redactor } from './redact.ts';

/**
 * Turns a byte stream into complete, redacted log lines. Chunks may cut a line (or a UTF-8
 * character, or a secret) anywhere, so bytes are held until their newline arrives and only
 * whole lines are redacted; `end()` flushes the partial last line. A line longer than
 * `maxLineBytes` is emitted in pieces (a secret straddling such a cut could escape redaction,
 * which is why the limit is large).
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
    maxLineChars = 1 << 20,
  ) {
    this.#stream = stream;
    this.#redact = redact;
    this.#emit = emit;
    this.#now = now;
    this.#maxLine = maxLineChars;
  }

  write(chunk: Buffer): void {
    let text = this.#pending + this.#decoder.write(chunk);
    let newline = text.indexOf('\n');
    while (newline !== -1) {
      this.#line(text.slice(0, newline));
      text = text.slice(newline + 1);
      newline = text.indexOf('\n');
    }
    while (text.length > this.#maxLine) {
      this.#line(text.slice(0, this.#maxLine));
      text = text.slice(this.#maxLine);
    }
    this.#pending = text;
  }

  end(): void {
    const rest = this.#pending + this.#decoder.end();
    this.#pending = '';
    if (rest.length > 0) this.#line(rest);
  }

  #line(raw: string): void {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    this.#emit({ stream: this.#stream, text: this.#redact(text), time: this.#now() });
  }
}
