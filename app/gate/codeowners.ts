import { parseCodeowners as readCodeowners, type Codeowners } from '../../compiler/index.ts';

/**
 * CODEOWNERS as GitHub reads it. The patterns are matched by the compiler's linear-time glob
 * matcher (RE2), never a backtracking RegExp: a hostile pattern such as `**a**a**a…b` must not
 * hang the app (see compiler/glob/ for the semantics and limits).
 */
export function parseCodeowners(text: string): Codeowners {
  return readCodeowners(text);
}

/** Owners of a path (`@user`, `@org/team`, or an email), from the last matching rule. */
export function ownersOf(rules: Codeowners, path: string): string[] {
  return rules.ownersOf(path);
}
