/**
 * A GitHub Actions branch/path filter pattern → an RE2 pattern, per the "Filter pattern cheat
 * sheet" of "Workflow syntax for GitHub Actions":
 * - `*` zero or more characters except `/`; `**` zero or more of any character (`**` followed by
 *   `/` also matches nothing, so `**\/README.md` matches `README.md`);
 * - `?` zero or one, `+` one or more, of the preceding character (or `[]` class);
 * - `[]` one character listed or in a range; ranges only within `a-z`, `A-Z`, `0-9`;
 * - `!` first negates the pattern (later patterns override earlier ones, see ref-filter.ts);
 * - `\` makes the next character literal.
 * Written by hand (a small translator, not a glob library) because every glob library on npm
 * compiles to a backtracking RegExp or backtracks itself; RE2 matches the output in linear time.
 */
export type Translation = { source: string; negated: boolean } | { problem: string };

interface Token {
  re: string;
  /** A `?` or `+` may follow it (a character or a class, not a wildcard or another quantifier). */
  repeatable: boolean;
}

export function translateFilterPattern(pattern: string): Translation {
  const negated = pattern.startsWith('!');
  const body = negated ? pattern.slice(1) : pattern;
  if (body === '') return { problem: negated ? '`!` negates nothing' : 'the pattern is empty' };
  const tokens: Token[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '\\') {
      const next = body[i + 1];
      if (next === undefined) return { problem: 'it ends with a lone `\\` (escape what?)' };
      tokens.push({ re: quoteChar(next), repeatable: true });
      i++;
    } else if (c === '*') {
      if (body[i + 1] === '*') {
        i++;
        if (body[i + 1] === '/') {
          i++;
          tokens.push({ re: '(?:.*/)?', repeatable: false });
        } else tokens.push({ re: '.*', repeatable: false });
      } else tokens.push({ re: '[^/]*', repeatable: false });
    } else if (c === '?' || c === '+') {
      const last = tokens[tokens.length - 1];
      if (!last?.repeatable)
        return {
          problem: `\`${c}\` at column ${i + 1 + (negated ? 1 : 0)} repeats nothing: it applies to the character before it (write \`\\${c}\` for a literal ${c})`,
        };
      last.re += c;
      last.repeatable = false;
    } else if (c === '[') {
      const end = body.indexOf(']', i + 1);
      if (end === -1) return { problem: '`[` is never closed with `]` (write `\\[` for a literal [)' };
      const set = characterSet(body.slice(i + 1, end));
      if ('problem' in set) return set;
      tokens.push({ re: set.re, repeatable: true });
      i = end;
    } else tokens.push({ re: quoteChar(c), repeatable: true });
  }
  return { source: tokens.map((t) => t.re).join(''), negated };
}

/** The inside of `[...]`: listed characters and ranges within a-z, A-Z or 0-9. */
function characterSet(inside: string): { re: string } | { problem: string } {
  if (inside === '') return { problem: '`[]` lists no character' };
  if (inside.startsWith('!') || inside.startsWith('^'))
    return { problem: `\`[${inside}]\`: negated character sets are not part of GitHub's filter syntax` };
  let re = '';
  for (let i = 0; i < inside.length; i++) {
    const c = inside[i] as string;
    if (c === '/' || c === '\\' || c === '[') return { problem: `\`[${inside}]\` may not contain \`${c}\`` };
    if (inside[i + 1] === '-' && i + 2 < inside.length) {
      const hi = inside[i + 2] as string;
      if (!sameRangeClass(c, hi) || c > hi)
        return {
          problem: `\`[${inside}]\`: the range \`${c}-${hi}\` is not within a-z, A-Z or 0-9 in ascending order`,
        };
      re += `${c}-${hi}`;
      i += 2;
    } else re += quoteChar(c);
  }
  return { re: `[${re}]` };
}

function sameRangeClass(lo: string, hi: string): boolean {
  return [/^[a-z]$/, /^[A-Z]$/, /^[0-9]$/].some((r) => r.test(lo) && r.test(hi));
}

/** One character as an RE2 literal. */
export function quoteChar(c: string): string {
  return /[\\.+*?()|[\]{}^$-]/.test(c) ? `\\${c}` : c;
}
