import { quoteChar } from './translate-filter.ts';

/**
 * A CODEOWNERS pattern → an RE2 pattern matching repository-relative paths (no leading `/`).
 * GitHub's "About code owners": gitignore rules, except that `!` negation, `[ ]` ranges and a
 * `\` escaping a leading `#` do not work. So:
 * - a pattern with no `/` except a trailing one matches at any depth (`*.js`, `apps/`); any other
 *   `/` anchors it to the root (`docs/*`, `/build/logs/`);
 * - `*` and `?` stay within a segment; a whole `**` segment spans segments (`**\/logs`,
 *   `docs/**`, `a/**\/b`); `***` is refused;
 * - a trailing `/` matches only what is inside that directory; a final literal segment matches the
 *   file or everything under the directory of that name (`/apps/github`), while a final lone `*`
 *   matches one level only (`docs/*` owns `docs/a.md`, not `docs/build-app/x.md`).
 * Matching is case-sensitive, as on GitHub.
 */
export function translateCodeownersPattern(pattern: string): { source: string } | { problem: string } {
  if (pattern.startsWith('!')) return { problem: 'negation (`!`) does not work in CODEOWNERS' };
  if (pattern.startsWith('\\#'))
    return { problem: 'escaping a leading `#` with `\\` does not work in CODEOWNERS' };
  if (/[[\]]/.test(pattern)) return { problem: 'character ranges (`[ ]`) do not work in CODEOWNERS' };
  if (pattern.includes('***')) return { problem: 'three asterisks in a row mean nothing' };
  if (pattern === '/') return { problem: '`/` alone names no file' };
  let segments = pattern.split('/');
  if (segments[0] === '') segments = segments.slice(1);
  // No slash, or only a trailing one: the pattern matches at any depth (as a leading `**/`).
  else if (segments.length === 1 || (segments.length === 2 && segments[1] === '')) {
    if (segments[0] !== '**') segments = ['**', ...segments];
  }
  if (segments.length > 1 && segments[segments.length - 1] === '') segments[segments.length - 1] = '**';
  if (segments.some((s) => s === '')) return { problem: 'an empty path segment (`//`)' };
  const last = segments.length - 1;
  let re = '';
  let needSlash = false;
  for (const [i, segment] of segments.entries()) {
    if (segment === '**') {
      if (i === 0 && i === last) re += '.+';
      else if (i === 0) re += '(?:.+/)?';
      else if (i === last) re += '/.*';
      else re += '(?:/.+)?';
      needSlash = i !== 0;
      continue;
    }
    if (needSlash) re += '/';
    needSlash = true;
    if (segment === '*') {
      re += '[^/]+';
      continue;
    }
    const translated = translateSegment(segment);
    if ('problem' in translated) return translated;
    re += translated.re;
    if (i === last) re += '(?:/.*)?';
  }
  return { source: re };
}

function translateSegment(segment: string): { re: string } | { problem: string } {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === '\\') {
      const next = segment[i + 1];
      if (next === undefined) return { problem: 'a segment ends with a lone `\\`' };
      re += quoteChar(next);
      i++;
    } else if (c === '*') {
      re += '[^/]*';
      while (segment[i + 1] === '*') i++;
    } else if (c === '?') re += '[^/]';
    else re += quoteChar(c);
  }
  return { re };
}
