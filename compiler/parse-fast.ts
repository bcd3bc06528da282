import { CORE_SCHEMA, load } from 'js-yaml';
import { Code } from './codes.ts';
import type { Finding } from './finding.ts';
import { pointerOf } from './finding.ts';
import { Limits, reservedKeys } from './limits.ts';

export type FastParse =
  | { ok: true; value: unknown; findings: Finding[] }
  | { ok: false; reason: string; offset?: number; code: Finding['code'] };

/**
 * The fast path (js-yaml, about 5× faster than `yaml`'s parseDocument): the value without
 * positions. js-yaml refuses duplicate keys, several documents, excessive depth and aliases;
 * `guardValue` then bounds the alias-expanded size and refuses reserved keys, before anything
 * walks the value (ajv, the planner, canonical JSON).
 */
export function parseFast(text: string): FastParse {
  let value: unknown;
  try {
    value = load(text, {
      schema: CORE_SCHEMA,
      maxDepth: Limits.maxDepth,
      maxAliases: Limits.maxAliases,
    });
  } catch (error) {
    const e = error as { reason?: unknown; mark?: { position?: number } };
    const reason = typeof e.reason === 'string' ? e.reason : 'the YAML cannot be read';
    const code = /maxDepth/.test(reason)
      ? Code.tooDeep
      : /maxAliases/.test(reason) || error instanceof TypeError
        ? Code.aliasLimit
        : /single document/.test(reason)
          ? Code.multipleDocuments
          : /duplicated mapping key/.test(reason)
            ? Code.duplicateKey
            : Code.yamlSyntax;
    return {
      ok: false,
      reason: error instanceof TypeError ? 'an alias refers to the node that contains it' : reason,
      code,
      ...(e.mark?.position === undefined ? {} : { offset: e.mark.position }),
    };
  }
  return { ok: true, value, findings: guardValue(value) };
}

/**
 * Walks the value counting nodes as if aliases were expanded, and stops at the budget (an alias
 * bomb is a small DAG of shared nodes that expands exponentially). Recursion is bounded by the
 * depth limit, so it cannot overflow the stack. Also reports reserved keys, non-finite numbers
 * and strings with lone surrogates (from `\ud800` escapes), which have no canonical JSON.
 */
export function guardValue(root: unknown): Finding[] {
  // The usual value has nothing to report: proved so by a walk that allocates nothing; the walk
  // below, which keeps the trail a finding needs, runs only when that one stops.
  if (cleanNodes(root, 0, Limits.maxExpandedNodes) >= 0) return [];
  const findings: Finding[] = [];
  const trail: (string | number)[] = [];
  const maxDepth = Limits.maxDepth * 2;
  let visited = 0;
  const fail = (finding: Omit<Finding, 'severity' | 'pointer'>, tail: string[] = []) =>
    findings.push({ severity: 'error', pointer: pointerOf(...trail, ...tail), ...finding });
  const walk = (value: unknown, depth: number): boolean => {
    if (++visited > Limits.maxExpandedNodes) return false;
    if (typeof value === 'string') {
      if (!value.isWellFormed())
        fail({
          code: Code.invalidUtf8,
          message: 'the string holds a lone surrogate (an invalid \\u escape)',
        });
      return true;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value))
        fail({ code: Code.wrongType, message: 'not a finite number (.inf and .nan are not allowed)' });
      return true;
    }
    if (value === null || typeof value !== 'object') return true;
    if (depth >= maxDepth) {
      fail({ code: Code.tooDeep, message: `nesting deeper than ${maxDepth} levels after alias expansion` });
      return true;
    }
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        trail.push(i);
        const ok = walk(value[i], depth + 1);
        trail.pop();
        if (!ok) return false;
      }
      return true;
    }
    for (const key of Object.keys(value)) {
      if (reservedKeys.has(key)) {
        fail(
          {
            code: Code.reservedKey,
            message: `the key ${JSON.stringify(key)} is not allowed`,
            hint: '`__proto__`, `constructor` and `prototype` are refused anywhere in a manifest',
            onKey: true,
          },
          [key],
        );
        continue;
      }
      trail.push(key);
      const ok = walk((value as Record<string, unknown>)[key], depth + 1);
      trail.pop();
      if (!ok) return false;
    }
    return true;
  };
  if (walk(root, 0)) return findings;
  return [
    {
      code: Code.aliasLimit,
      severity: 'error',
      message: `the document expands to more than ${Limits.maxExpandedNodes} nodes (aliases multiply it)`,
      hint: 'use fewer nested aliases; write the repeated values out or use `defaults`',
      pointer: '',
    },
  ];
}

/**
 * The nodes left of `budget` after walking `value` when nothing under it needs a finding (the
 * checks of guardValue's walk, in the same count), else -1. `for…in` instead of `Object.keys`:
 * no key array per object; an inherited enumerable key could only make it stop early.
 */
function cleanNodes(value: unknown, depth: number, budget: number): number {
  let left = budget - 1;
  if (left < 0) return -1;
  if (typeof value === 'string') return value.isWellFormed() ? left : -1;
  if (typeof value === 'number') return Number.isFinite(value) ? left : -1;
  if (value === null || typeof value !== 'object') return left;
  if (depth >= Limits.maxDepth * 2) return -1;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length && left >= 0; i++) left = cleanNodes(value[i], depth + 1, left);
    return left;
  }
  for (const key in value) {
    if (reservedKeys.has(key)) return -1;
    left = cleanNodes((value as Record<string, unknown>)[key], depth + 1, left);
    if (left < 0) return -1;
  }
  return left;
}
