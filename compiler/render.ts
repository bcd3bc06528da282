import { ExpressionError } from './errors.ts';
import type { ExpressionRef } from './expressions.ts';
import { scanTemplate } from './expressions.ts';

/** The values expressions resolve against at dispatch time. The engine builds one per task. */
export interface ExpressionScope {
  params: Record<string, unknown>;
  secrets?: Record<string, string>;
  workload?: { identity?: string };
  /** Finished tasks by declared id. Output values are strings (`key=value` lines). */
  tasks?: Record<string, { outputs: Record<string, string> }>;
  /** This expansion's matrix values. */
  matrix?: Record<string, unknown>;
  run?: { id: string };
}

/**
 * Resolves `${...}` expressions in every string of a JSON value. A string that is exactly one
 * expression becomes the value itself (keeping its type); otherwise values are interpolated as
 * text (objects as JSON). `$${` becomes a literal `${`. Throws ExpressionError for a missing value.
 */
export function renderTemplate(value: unknown, scope: ExpressionScope): unknown {
  return walk(value, (text) => renderString(text, scope));
}

/**
 * Renders what the scope can resolve and leaves the rest as written: a string with any expression
 * the scope has no value for (a secret, an upstream output) stays unrendered. Policy asked before
 * a run exists (a runbook trigger, `maestro policy eval`) sees the hosts the run's params name,
 * while a host only a secret knows stays unknown, so policy still fails closed on it.
 */
export function renderKnown(value: unknown, scope: ExpressionScope): unknown {
  return walk(value, (text) => {
    try {
      return renderString(text, scope);
    } catch (error) {
      if (error instanceof ExpressionError) return text;
      throw error;
    }
  });
}

function walk(value: unknown, renderText: (text: string) => unknown): unknown {
  if (typeof value === 'string') return renderText(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, renderText));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    // defineProperty, not assignment: a key named __proto__ stays an own key.
    for (const [k, v] of Object.entries(value))
      Object.defineProperty(out, k, {
        value: walk(v, renderText),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return value;
}

function renderString(text: string, scope: ExpressionScope): unknown {
  const { refs } = scanTemplate(text);
  const first = refs[0];
  if (refs.length === 1 && first && first.start === 0 && first.end === text.length)
    return lookup(first, scope);
  let out = '';
  let at = 0;
  for (const ref of refs) {
    out += unescape(text.slice(at, ref.start)) + stringify(lookup(ref, scope));
    at = ref.end;
  }
  return out + unescape(text.slice(at));
}

function unescape(text: string): string {
  return text.replaceAll('$${', '${');
}

function stringify(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function lookup(ref: ExpressionRef, scope: ExpressionScope): unknown {
  const [root, ...rest] = ref.path;
  let current: unknown =
    root === 'params'
      ? scope.params
      : root === 'secrets'
        ? scope.secrets
        : root === 'workload'
          ? scope.workload
          : root === 'tasks'
            ? scope.tasks
            : root === 'matrix'
              ? scope.matrix
              : root === 'run'
                ? scope.run
                : undefined;
  for (const key of rest) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) {
      current = undefined;
      break;
    }
    current = (current as Record<string, unknown>)[key];
  }
  if (current === undefined)
    throw new ExpressionError(`${ref.text} has no value`, {
      hint:
        root === 'secrets'
          ? `provide the secret ${rest.join('.')} to the run`
          : root === 'params'
            ? `set the param ${rest[0] ?? ''} or give it a default`
            : 'the referenced value was not produced',
      details: { expression: ref.text },
    });
  return current;
}
