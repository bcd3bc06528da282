/**
 * The one redactor of secret values, used by every runner and by the engine before anything is
 * logged or stored. Each value is hidden as `***` wherever it appears:
 * - whole, and also line by line when it spans lines: logs are redacted one line at a time, so a
 *   multi-line secret (a PEM key) never reaches the redactor whole;
 * - when it is a URL, its parts quoted on their own (urlPiecesOf);
 * - in its JSON-escaped form too (newline as `\n`, `"` as `\"`, `\` as `\\`), because values
 *   reach logs and environment variables serialised (MAESTRO_INPUTS, a task echoing JSON).
 * Pieces are replaced longest first, so a secret that contains another is hidden whole.
 */
export const REDACTED = '***';

export interface Redactor {
  (text: string): string;
  /** Length of the longest piece it hides (0 when there are none): how much text a cut may split. */
  readonly longest: number;
}

/** Shorter parts of a secret URL are not hidden on their own: `/v1` would hide every `/v1`. */
const MIN_URL_PART = 8;

/**
 * The parts of a secret URL that code quotes on their own: its normalised form, origin and path
 * (an error naming the request), path, query and password. A webhook URL kept as a secret carries
 * its credential there. The host alone is not hidden: policy decisions name it.
 */
function urlPiecesOf(value: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return [];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return [];
  }
  const pieces = [url.href];
  // Non-special schemes (postgres://, amqp://) have no origin; their password still counts.
  if (url.origin !== 'null') pieces.push(`${url.origin}${url.pathname}`);
  for (const part of [url.pathname, url.search, url.hash, url.password, decoded(url.password)])
    if (part.length >= MIN_URL_PART) pieces.push(part);
  return pieces;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a malformed escape: the raw form is already a piece
  }
}

function piecesOf(value: string): string[] {
  const pieces = [value, ...urlPiecesOf(value)];
  if (/[\r\n]/.test(value))
    for (const line of value.split(/\r?\n|\r/)) if (line.trim().length > 0) pieces.push(line);
  // JSON escaping of each piece: the forms a serialised copy of the value contains.
  for (const piece of [...pieces]) {
    const escaped = JSON.stringify(piece).slice(1, -1);
    if (escaped !== piece) pieces.push(escaped);
  }
  return pieces;
}

export function createRedactor(values: readonly string[]): Redactor {
  const unique = new Set<string>();
  for (const value of values) if (value.length > 0) for (const piece of piecesOf(value)) unique.add(piece);
  const ordered = [...unique].sort((a, b) => b.length - a.length);
  const redact = (text: string): string => {
    let out = text;
    for (const piece of ordered) if (out.includes(piece)) out = out.split(piece).join(REDACTED);
    return out;
  };
  return Object.assign(redact, { longest: ordered[0]?.length ?? 0 });
}

/**
 * Redacts a structured value leaf by leaf, before it is serialised: redacting the JSON text
 * afterwards misses every secret that JSON escapes (a newline, `"` or `\`). Object keys are
 * redacted too; a number whose digits form a secret becomes the string `***`.
 */
export function redactValue(value: unknown, redact: (text: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (typeof value === 'number' || typeof value === 'bigint') {
    const text = String(value);
    const out = redact(text);
    return out === text ? value : out;
  }
  if (Array.isArray(value)) return value.map((item) => redactValue(item, redact));
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [redact(key), redactValue(item, redact)]),
    );
  return value;
}

export function redactRecord(
  record: Record<string, string>,
  redact: (text: string) => string,
): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [redact(k), redact(v)]));
}
