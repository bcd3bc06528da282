import { GlobLimits } from './glob-limits.ts';
import { compileWholeMatch, type LinearMatcher } from './linear-match.ts';
import { translateCodeownersPattern } from './translate-codeowners.ts';

export interface CodeownersRule {
  /** 1-based line in the file. */
  line: number;
  pattern: string;
  /** Empty when the line names no owner: the path then has none (GitHub's `/apps/github`). */
  owners: string[];
  /** The RE2 source the pattern became. */
  source: string;
}

export interface CodeownersProblem {
  line: number;
  message: string;
}

export interface Codeowners {
  rules: CodeownersRule[];
  /** Lines skipped as invalid (GitHub skips them too), or why the whole file was not loaded. */
  problems: CodeownersProblem[];
  /** False when the file is over a limit: like GitHub, nothing in it applies. */
  loaded: boolean;
  /** Owners of a repository-relative path from the LAST matching rule; [] when none matches. */
  ownersOf(path: string): string[];
}

// `@user` (managed users have `_shortcode`), `@org/team`, or an e-mail address ("About code owners").
const owner = /^(?:@[A-Za-z0-9][A-Za-z0-9_-]{0,99}(?:\/[A-Za-z0-9._-]{1,100})?|[^@\s]{1,64}@[^@\s]{1,255})$/;

/**
 * Reads a CODEOWNERS file as GitHub does: one `<pattern> <owner>...` per line, `#` starts a
 * comment (at the start of a line or after whitespace), a line with invalid syntax is skipped,
 * and a file of 3 MB or more is not loaded at all. Patterns are matched by RE2 (linear time), and
 * each is compiled only when a lookup first reaches it.
 */
export function parseCodeowners(text: string): Codeowners {
  const rules: CodeownersRule[] = [];
  const problems: CodeownersProblem[] = [];
  const refuse = (message: string): Codeowners => ({
    rules: [],
    problems: [{ line: 0, message }],
    loaded: false,
    ownersOf: () => [],
  });
  if (new TextEncoder().encode(text).length >= GlobLimits.maxCodeownersBytes)
    return refuse(
      `the file is ${GlobLimits.maxCodeownersBytes / 1024 / 1024} MB or more (GitHub ignores it too)`,
    );
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const words = withoutComment(raw)
      .split(/[ \t]+/)
      .filter(Boolean);
    const [pattern, ...owners] = words;
    if (pattern === undefined) continue;
    const line = index + 1;
    const problem = checkLine(pattern, owners);
    if (problem) {
      problems.push({ line, message: problem });
      continue;
    }
    const translated = translateCodeownersPattern(pattern);
    if ('problem' in translated) problems.push({ line, message: `\`${pattern}\`: ${translated.problem}` });
    else rules.push({ line, pattern, owners, source: translated.source });
  }
  if (rules.length > GlobLimits.maxCodeownersRules)
    return refuse(`the file has ${rules.length} rules; the limit is ${GlobLimits.maxCodeownersRules}`);
  const compiled = new Array<LinearMatcher | undefined>(rules.length);
  return {
    rules,
    problems,
    loaded: true,
    ownersOf(path) {
      for (let i = rules.length - 1; i >= 0; i--) {
        const rule = rules[i] as CodeownersRule;
        const matcher = (compiled[i] ??= compileWholeMatch(rule.source));
        if (matcher.test(path)) return [...rule.owners];
      }
      return [];
    },
  };
}

function checkLine(pattern: string, owners: string[]): string | undefined {
  if (pattern.length > GlobLimits.maxPatternLength)
    return `the pattern is longer than ${GlobLimits.maxPatternLength} characters`;
  const bad = owners.find((o) => !owner.test(o));
  if (bad !== undefined) return `\`${bad}\` is not an owner (write @user, @org/team or an e-mail address)`;
  return undefined;
}

/** The line without its comment: `#` at the start or after a space or tab. */
function withoutComment(line: string): string {
  for (let i = 0; i < line.length; i++)
    if (line[i] === '#' && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) return line.slice(0, i);
  return line;
}
