/**
 * Redaction of secret values from text. Values are replaced longest first, so a secret that
 * contains another secret is hidden whole. A multi-line secret is also redacted line by line,
 * because logs are redacted one complete line at a time and never see it whole.
 */
export const REDACTED = '***';

export type Redactor = (text: string) => string;

export function createRedactor(values: readonly string[]): Redactor {
  const pieces = new Set<string>();
  for (const value of values) {
    if (value.length === 0) continue;
    pieces.add(value);
    if (value.includes('\n')) {
      for (const line of value.split(/\r?\n/)) if (line.trim().length > 0) pieces.add(line);
    }
  }
  const ordered = [...pieces].sort((a, b) => b.length - a.length);
  if (ordered.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const piece of ordered) if (out.includes(piece)) out = out.split(piece).join(REDACTED);
    return out;
  };
}
