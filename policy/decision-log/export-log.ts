import { DecisionLogFormatError } from '../errors.ts';
import type { DecisionLogEntry } from './entry.ts';

/** One JSON object per line, in chain order, each with its hash and prevHash. */
export function formatDecisionLog(entries: readonly DecisionLogEntry[]): string {
  return entries.map((e) => `${JSON.stringify(e)}\n`).join('');
}

/** Parses an exported log; a line that is not JSON is a format error naming the line. */
export function parseDecisionLog(text: string, file = 'decision log'): unknown[] {
  const out: unknown[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim();
    if (!line) continue;
    try {
      out.push(JSON.parse(line));
    } catch (error) {
      throw new DecisionLogFormatError(`${file}:${i + 1}: not a JSON line: ${(error as Error).message}`);
    }
  }
  return out;
}
