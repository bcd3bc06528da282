import { Code } from './codes.ts';
import type { Finding } from './finding.ts';
import { Limits } from './limits.ts';

export type Decoded = { text: string } | { finding: Finding; prefix: string };

/** Bytes or text to text, refusing oversize input and invalid UTF-8 (with the offending offset). */
export function decodeSource(source: string | Uint8Array): Decoded {
  const size = typeof source === 'string' ? source.length : source.byteLength;
  if (size > Limits.maxBytes)
    return {
      finding: {
        code: Code.fileTooLarge,
        severity: 'error',
        message: `the file is ${size} bytes; the limit is ${Limits.maxBytes} bytes`,
        hint: 'split the workflow into several manifests',
        pointer: '',
        offset: { start: 0, end: 0 },
      },
      prefix: '',
    };
  let text: string;
  if (typeof source === 'string') text = source;
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(source);
    } catch {
      const bad = firstInvalidUtf8(source);
      // Offsets are in characters of the valid prefix, so the locator can turn them into a line.
      const prefix = new TextDecoder('utf-8').decode(source.subarray(0, bad));
      return {
        finding: {
          code: Code.invalidUtf8,
          severity: 'error',
          message: `the file is not valid UTF-8 (byte ${bad})`,
          hint: 'save the file as UTF-8',
          pointer: '',
          offset: { start: prefix.length, end: prefix.length },
        },
        prefix,
      };
    }
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return { text };
}

/** Index of the first byte that starts an invalid UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let need: number;
    let min: number;
    if (b < 0x80) {
      i += 1;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) [need, min] = [1, 0x80];
    else if (b >= 0xe0 && b <= 0xef) [need, min] = [2, 0x800];
    else if (b >= 0xf0 && b <= 0xf4) [need, min] = [3, 0x10000];
    else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}
