/**
 * `${root.path}` expressions in strings. Only `${...}` holding a dotted path is a Maestro
 * expression: `${HOME}` (no dot) is left alone for the shell, and `$${` writes a literal `${`.
 * Scanning is linear: the pattern uses negated character classes only.
 */
export const expressionRoots = ['params', 'secrets', 'workload', 'tasks', 'matrix', 'run'] as const;
export type ExpressionRoot = (typeof expressionRoots)[number];

export interface ExpressionRef {
  /** The expression as written, `${params.x}`. */
  text: string;
  /** Path segments, `['params', 'x']`. */
  path: string[];
  start: number;
  end: number;
}

export interface ScanResult {
  refs: ExpressionRef[];
  /** Malformed dotted expressions (bad characters, empty segments). */
  malformed: { text: string; start: number }[];
}

const noRefs: readonly ExpressionRef[] = Object.freeze([]);
const noMalformed: ScanResult['malformed'] = Object.freeze([]) as unknown as ScanResult['malformed'];

/**
 * The matches of `/(\$?)\$\{([^{}]*)\}/g` (kept as `scanTemplateReference` in the tests, which
 * check both give the same result), found with indexOf: no match arrays, and nothing allocated
 * for a string without expressions. A match starts at the first `${` at or after the end of the
 * previous one whose body reaches a `}` before any `{`; a `$` just before it (and not inside the
 * previous match) makes it an escaped literal. The result's arrays are shared when empty: do not
 * push to them.
 */
export function scanTemplate(text: string): ScanResult {
  let open = text.indexOf('${');
  if (open === -1) return { refs: noRefs as ExpressionRef[], malformed: noMalformed };
  let refs: ExpressionRef[] | undefined;
  let malformed: ScanResult['malformed'] | undefined;
  let end = 0; // where the previous match ended
  for (; open !== -1; open = text.indexOf('${', open + 1)) {
    let close = open + 2;
    for (; close < text.length; close++) {
      const c = text.charCodeAt(close);
      if (c === 0x7b /* { */ || c === 0x7d /* } */) break;
    }
    if (close >= text.length || text.charCodeAt(close) !== 0x7d) continue; // no match at this `${`
    const escaped = open > end && text.charCodeAt(open - 1) === 0x24; /* $ */
    const matchStart = escaped ? open - 1 : open;
    const body = escaped ? '' : text.slice(open + 2, close).trim();
    end = close + 1;
    open = close; // the search resumes after this match
    if (escaped) continue;
    if (!body.includes('.')) continue; // a shell variable such as ${HOME}
    const path = dottedPath(body);
    const whole = text.slice(matchStart, end);
    // `[x]`, not a push to `[]`: a pushed-to empty array reserves 17 slots, and the analysis keeps
    // the scan of every `run`.
    if (path) {
      const ref = { text: whole, path, start: matchStart, end };
      if (refs) refs.push(ref);
      else refs = [ref];
    } else if (malformed) malformed.push({ text: whole, start: matchStart });
    else malformed = [{ text: whole, start: matchStart }];
  }
  return { refs: refs ?? (noRefs as ExpressionRef[]), malformed: malformed ?? noMalformed };
}

const noSpans: readonly number[] = Object.freeze([]);

/**
 * The `[start, end)` offsets of each reference, two numbers per reference in one exactly sized
 * array: what the planner needs of a `run` string's scan, kept by the analysis for every task
 * (a scan's objects, paths and segments are ≈ 300 bytes per reference, this is 8 per number).
 */
export function spansOf(refs: readonly ExpressionRef[]): readonly number[] {
  if (refs.length === 0) return noSpans;
  const spans = new Array<number>(2 * refs.length);
  for (let k = 0; k < refs.length; k++) {
    const ref = refs[k] as ExpressionRef;
    spans[2 * k] = ref.start;
    spans[2 * k + 1] = ref.end;
  }
  return spans;
}

/**
 * `body.split('.')` when every segment matches `^[A-Za-z0-9_-]+$`, else undefined: the
 * characters checked in one pass instead of a RegExp test per segment. (split, not pushes: its
 * array is exactly as long, and the analysis keeps it.)
 */
function dottedPath(body: string): string[] | undefined {
  let from = 0;
  for (let i = 0; i <= body.length; i++) {
    const c = i === body.length ? 0x2e /* . */ : body.charCodeAt(i);
    if (c === 0x2e) {
      if (i === from) return undefined; // an empty segment
      from = i + 1;
    } else if (!isSegmentChar(c)) return undefined;
  }
  return body.split('.');
}

function isSegmentChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2d // -
  );
}

/** True when the string is exactly one expression (it then keeps the value's type). */
export function wholeExpression(text: string): ExpressionRef | undefined {
  const { refs } = scanTemplate(text);
  const only = refs[0];
  return refs.length === 1 && only && only.start === 0 && only.end === text.length ? only : undefined;
}

/**
 * Calls `visit` for every string in a JSON value that holds `${`. `path()` returns the JSON-pointer
 * tokens of that string; it is built only when asked for (the common case never asks).
 */
export function forEachTemplate(
  value: unknown,
  visit: (text: string, path: () => (string | number)[]) => void,
): void {
  const trail: (string | number)[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.includes('${')) visit(v, () => [...trail]);
    } else if (Array.isArray(v))
      for (let i = 0; i < v.length; i++) {
        trail.push(i);
        walk(v[i]);
        trail.pop();
      }
    else if (v !== null && typeof v === 'object')
      for (const k of Object.keys(v)) {
        trail.push(k);
        walk((v as Record<string, unknown>)[k]);
        trail.pop();
      }
  };
  walk(value);
}
