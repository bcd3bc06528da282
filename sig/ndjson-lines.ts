import type { Readable } from 'node:stream';

/**
 * The lines of a stream as they arrive. Unlike readline's iterator, a stream that errors or
 * closes early (a reset connection) rejects here instead of hanging or throwing uncaught:
 * the stream clients reconnect on exactly that.
 */
export async function* ndjsonLines(stream: Readable): AsyncGenerator<string> {
  let buffered = '';
  for await (const chunk of stream) {
    buffered += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).replace(/\r$/, '');
      buffered = buffered.slice(newline + 1);
      if (line.trim() !== '') yield line;
    }
  }
  if (buffered.trim() !== '') yield buffered;
}
