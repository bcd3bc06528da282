import { re2Library } from '../libraries.ts';

/** A compiled matcher: `test` is linear in the subject's length (RE2: no backtracking). */
export interface LinearMatcher {
  test(subject: string): boolean;
}

/**
 * Compiles an RE2 pattern (from translate-*.ts) that must match the whole subject. `.` matches
 * newlines too: git allows them in paths, and a path must not escape a rule by containing one.
 */
export function compileWholeMatch(source: string): LinearMatcher {
  const { RE2JS } = re2Library();
  const re = RE2JS.compile(source, RE2JS.DOTALL);
  return { test: (subject) => re.testExact(subject) };
}
