import { InputError } from '../core/index.ts';

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Error thrown for a malformed duration string; stable code `invalid_duration`. */
export class DurationError extends InputError {
  constructor(text: string) {
    super('invalid_duration', `invalid duration ${JSON.stringify(text)}`, {
      hint: 'write <integer><unit> parts with units ms, s, m, h, d, e.g. 500ms, 2s, 10m, 1h30m',
    });
  }
}

/** Parses `500ms`, `2s`, `10m`, `1h30m`, `7d` into milliseconds. */
export function parseDuration(text: string): number {
  if (typeof text !== 'string' || text.length === 0 || text.length > 64)
    throw new DurationError(String(text));
  // Linear: each part is digits then a unit; the unit letters separate the parts unambiguously.
  // Created per call: a sticky RegExp carries lastIndex, which must not be shared state.
  const partPattern = /([0-9]{1,9})(ms|s|m|h|d)/y;
  let total = 0;
  let index = 0;
  while (index < text.length) {
    partPattern.lastIndex = index;
    const match = partPattern.exec(text);
    if (!match) throw new DurationError(text);
    total += Number(match[1]) * (unitMs[match[2] as string] as number);
    index = partPattern.lastIndex;
  }
  if (!Number.isSafeInteger(total)) throw new DurationError(text);
  return total;
}
