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

/** Calls `visit` for every string in a JSON value, with its JSON-pointer tokens. */
export function forEachString(
  value: unknown,
  visit: (text: string, path: (string | number)[]) => void,
  path: (string | number)[] = [],
): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value)) value.forEach((v, i) => forEachString(v, visit, [...path, i]));
  else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) forEachString(v, visit, [...path, k]);
}
