import type { Options } from 'ajv';

type RegExpEngine = NonNullable<NonNullable<Options['code']>['regExp']>;

/** Longest string a catalog schema `pattern` is tested on; bounds even polynomial backtracking. */
export const maxPatternSubjectLength = 4096;

export class UnsafePatternError extends Error {}

/**
 * The RegExp engine ajv uses for catalog input schemas (which come from task authors, not us).
 * It refuses patterns that can backtrack exponentially: a quantified group that itself contains
 * a quantifier or an alternation (`(a+)+`, `(a|aa)*`), and backreferences. Anything longer than
 * `maxPatternSubjectLength` does not match. V8 has no linear-time engine enabled by default.
 */
export const safeRegExp: RegExpEngine = Object.assign(
  (pattern: string, flags: string) => {
    const problem = backtrackingProblem(pattern);
    if (problem) throw new UnsafePatternError(`pattern ${JSON.stringify(pattern)} ${problem}`);
    const regexp = new RegExp(pattern, flags);
    return { test: (s: string) => s.length <= maxPatternSubjectLength && regexp.test(s) };
  },
  { code: 'new RegExp' },
);

/** Why a pattern could backtrack catastrophically, or undefined when it cannot. */
export function backtrackingProblem(pattern: string): string | undefined {
  if (pattern.length > 1000) return 'is longer than 1000 characters';
  // Per open group: does it contain a quantifier or alternation?
  const groups: { risky: boolean }[] = [];
  let lastClosedRisky = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      if (/[1-9k]/.test(pattern[i + 1] ?? '')) return 'uses a backreference';
      i++;
      lastClosedRisky = false;
      continue;
    }
    if (c === '[') {
      // Skip a character class; quantifiers inside it are literal.
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      lastClosedRisky = false;
      continue;
    }
    if (c === '(') {
      groups.push({ risky: false });
      lastClosedRisky = false;
      // Skip a group prefix (`?:`, `?=`, `?!`, `?<=`, `?<!`, `?<name>`): its `?` is no quantifier.
      const prefix = /^\?(:|=|!|<=|<!|<[A-Za-z_][A-Za-z0-9_]*>)/.exec(pattern.slice(i + 1, i + 40));
      if (prefix) i += prefix[0].length;
      continue;
    }
    if (c === ')') {
      const group = groups.pop();
      lastClosedRisky = group?.risky ?? false;
      if (lastClosedRisky && groups.length > 0)
        (groups[groups.length - 1] as { risky: boolean }).risky = true;
      continue;
    }
    const quantifier =
      c === '*' || c === '+' || c === '?' || (c === '{' && /^\{[0-9]*,?[0-9]*\}/.test(pattern.slice(i)));
    if (quantifier) {
      const unbounded = c === '*' || c === '+' || (c === '{' && /^\{[0-9]+,\}/.test(pattern.slice(i)));
      const repeats = unbounded || (c === '{' && !/^\{[01](,[01])?\}/.test(pattern.slice(i)));
      if (lastClosedRisky && repeats)
        return 'repeats a group that itself repeats or alternates (nested quantifier)';
      if (groups.length > 0) (groups[groups.length - 1] as { risky: boolean }).risky = true;
      lastClosedRisky = false;
      continue;
    }
    if (c === '|' && groups.length > 0) (groups[groups.length - 1] as { risky: boolean }).risky = true;
    lastClosedRisky = false;
  }
  return undefined;
}
