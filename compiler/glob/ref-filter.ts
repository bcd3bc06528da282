import type { RefFilter } from '../../core/index.ts';
import { GlobError } from '../errors.ts';
import { GlobLimits } from './glob-limits.ts';
import { compileWholeMatch, type LinearMatcher } from './linear-match.ts';
import { translateFilterPattern } from './translate-filter.ts';

/** A problem with one pattern of a filter list, by its index in the list. */
export interface FilterProblem {
  index: number;
  kind: 'invalid' | 'tooLong' | 'tooMany' | 'onlyNegated';
  message: string;
}

/**
 * Problems of a `branches` or `paths` list, for the compiler's diagnostics: invalid patterns,
 * patterns or lists over the limits, and a list of only `!` patterns (which matches nothing;
 * GitHub: "you must also define at least one branch without the `!` character").
 */
export function checkFilterPatterns(patterns: readonly string[]): FilterProblem[] {
  const problems: FilterProblem[] = [];
  if (patterns.length > GlobLimits.maxFilterPatterns)
    problems.push({
      index: GlobLimits.maxFilterPatterns,
      kind: 'tooMany',
      message: `more than ${GlobLimits.maxFilterPatterns} patterns`,
    });
  let positive = false;
  for (const [index, pattern] of patterns.slice(0, GlobLimits.maxFilterPatterns).entries()) {
    if (pattern.length > GlobLimits.maxPatternLength) {
      problems.push({
        index,
        kind: 'tooLong',
        message: `longer than ${GlobLimits.maxPatternLength} characters`,
      });
      continue;
    }
    const translated = translateFilterPattern(pattern);
    if ('problem' in translated) problems.push({ index, kind: 'invalid', message: translated.problem });
    else if (!translated.negated) positive = true;
  }
  if (!positive && patterns.length > 0 && problems.length === 0)
    problems.push({
      index: 0,
      kind: 'onlyNegated',
      message:
        'every pattern starts with `!`, so nothing matches (add a positive pattern such as `**` first)',
    });
  return problems;
}

/**
 * A filter list as one predicate: patterns are checked in order and the last one that matches
 * decides (a `!` pattern excludes, a positive one includes again); nothing matching excludes.
 * Throws GlobError for a list `checkFilterPatterns` would refuse, so a plan that bypassed the
 * compiler fails closed (no run) instead of matching by accident.
 */
export function compileFilterPatterns(patterns: readonly string[]): LinearMatcher {
  const problems = checkFilterPatterns(patterns);
  if (problems.length > 0) {
    const first = problems[0] as FilterProblem;
    throw new GlobError(
      `filter pattern #${first.index + 1} ${JSON.stringify(patterns[first.index] ?? '')}: ${first.message}`,
    );
  }
  const compiled = patterns.map((pattern) => {
    const translated = translateFilterPattern(pattern) as { source: string; negated: boolean };
    return { negated: translated.negated, matcher: compileWholeMatch(translated.source) };
  });
  return {
    test(subject) {
      for (let i = compiled.length - 1; i >= 0; i--) {
        const { negated, matcher } = compiled[i] as (typeof compiled)[number];
        if (matcher.test(subject)) return !negated;
      }
      return false;
    },
  };
}

/**
 * Whether a branch (and the changed paths, when the filter names paths) match a trigger filter.
 * No `branches` means any branch; no `paths` (or changed paths unknown) means any change; with
 * `paths`, a run starts when at least one changed path is included.
 */
export function matchesRefFilter(
  filter: RefFilter | undefined,
  branch: string,
  changed: readonly string[] | undefined,
): boolean {
  if (!filter) return false;
  if (filter.branches && filter.branches.length > 0 && !compileFilterPatterns(filter.branches).test(branch))
    return false;
  if (filter.paths && filter.paths.length > 0 && changed !== undefined) {
    const paths = compileFilterPatterns(filter.paths);
    return changed.some((path) => paths.test(path));
  }
  return true;
}
