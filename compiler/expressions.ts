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

const segment = /^[A-Za-z0-9_-]+$/;

export function scanTemplate(text: string): ScanResult {
  const refs: ExpressionRef[] = [];
  const malformed: ScanResult['malformed'] = [];
  if (!text.includes('${')) return { refs, malformed };
  const pattern = /(\$?)\$\{([^{}]*)\}/g;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    if (match[1] === '$') continue; // `$${...}` is an escaped literal
    const body = (match[2] as string).trim();
    if (!body.includes('.')) continue; // a shell variable such as ${HOME}
    const start = match.index;
    const path = body.split('.');
    if (!path.every((p) => segment.test(p))) malformed.push({ text: match[0], start });
    else refs.push({ text: match[0], path, start, end: start + match[0].length });
  }
  return { refs, malformed };
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
