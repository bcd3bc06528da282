/**
 * CODEOWNERS as GitHub reads it: one rule per line, `<pattern> <owner>...`; the LAST matching
 * rule wins; patterns follow gitignore rules (a leading `/` anchors to the root, a pattern with
 * no slash matches at any depth, `*` stays within a path segment, `**` crosses them, a trailing
 * `/` matches everything below that directory).
 */
export interface CodeownersRule {
  pattern: string;
  owners: string[];
  regex: RegExp;
}

export function parseCodeowners(text: string): CodeownersRule[] {
  const rules: CodeownersRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (line === '') continue;
    const [pattern, ...owners] = line.split(/\s+/);
    if (!pattern) continue;
    rules.push({ pattern, owners, regex: patternToRegex(pattern) });
  }
  return rules;
}

/** Owners of a path (`@user`, `@org/team`, or an email), from the last matching rule. */
export function ownersOf(rules: readonly CodeownersRule[], path: string): string[] {
  for (let i = rules.length - 1; i >= 0; i -= 1) if (rules[i]!.regex.test(path)) return rules[i]!.owners;
  return [];
}

function patternToRegex(pattern: string): RegExp {
  let p = pattern;
  const anchored = p.startsWith('/') || p.slice(0, -1).includes('/');
  p = p.replace(/^\//, '');
  const directory = p.endsWith('/');
  p = p.replace(/\/$/, '');
  let body = '';
  for (let i = 0; i < p.length; i += 1) {
    const c = p[i]!;
    if (c === '*' && p[i + 1] === '*') {
      body += '.*';
      i += 1;
      if (p[i + 1] === '/') i += 1;
    } else if (c === '*') body += '[^/]*';
    else if (c === '?') body += '[^/]';
    else body += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  const prefix = anchored ? '^' : '^(?:.*/)?';
  const suffix = directory ? '/.*$' : '(?:/.*)?$';
  return new RegExp(prefix + body + suffix);
}
