import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LogLine } from '../../core/index.ts';
import { LineSplitter } from './line-splitter.ts';
import { createRedactor } from '../../core/index.ts';

function split(chunks: (string | Uint8Array)[], secrets: string[], maxLine?: number): string[] {
  const lines: LogLine[] = [];
  const splitter = new LineSplitter(
    'stdout',
    createRedactor(secrets),
    (l) => lines.push(l),
    () => 0,
    maxLine,
  );
  for (const chunk of chunks) splitter.write(chunk);
  splitter.end();
  return lines.map((l) => l.text);
}

/** Cuts `text` into chunks at the given offsets. */
function cutAt(text: Buffer, offsets: number[]): Buffer[] {
  const points = [...new Set(offsets.map((o) => o % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    chunks.push(text.subarray(last, p));
    last = p;
  }
  chunks.push(text.subarray(last));
  return chunks;
}

describe('LineSplitter', () => {
  it('joins lines cut across chunks (UTF-8 characters too), strips CR, flushes the last partial line', () => {
    const bytes = Buffer.from('héllo wörld\r\nsecond\nlast');
    expect(split(cutAt(bytes, [2, 3, 9, 14]), [])).toEqual(['héllo wörld', 'second', 'last']);
  });

  it('redacts every line of a multi-line secret wherever the chunks are cut (property)', () => {
    const pem = '-----BEGIN KEY-----\nAbC"d\\e/fGh\n-----END KEY-----';
    const text = Buffer.from(`start\n${pem}\nmid ${pem} end\n`);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 8 }), (offsets) => {
        const out = split(cutAt(text, offsets), [pem]).join('\n');
        for (const line of pem.split('\n')) expect(out).not.toContain(line);
        expect(out).toContain('start');
      }),
    );
  });

  it('caps line length, and a secret straddling a cut of a long line is still redacted (property)', () => {
    const secret = 's3cr3t-value';
    fc.assert(
      fc.property(fc.nat({ max: 60 }), fc.array(fc.nat(), { maxLength: 6 }), (at, offsets) => {
        const long = `${'x'.repeat(at)}${secret}${'y'.repeat(60 - at)}`;
        const lines = split(cutAt(Buffer.from(`${long}\nok\n`), offsets), [secret], 16);
        expect(lines.every((l) => l.length <= 16)).toBe(true);
        expect(lines.join('')).not.toContain(secret);
        expect(lines.join('').replace('***', secret)).toBe(`${long}ok`);
        expect(lines.at(-1)).toBe('ok');
      }),
    );
  });

  it('emits an endless line in bounded pieces', () => {
    const lines = split(
      Array.from({ length: 10 }, () => 'z'.repeat(1000)),
      [],
      4096,
    );
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.every((l) => l.length <= 4096)).toBe(true);
    expect(lines.join('')).toBe('z'.repeat(10_000));
  });
});
