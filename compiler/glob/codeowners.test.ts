// CODEOWNERS as GitHub documents it ("About code owners"): the example file's own comments are
// the expectations, then the gitignore cases GitHub inherits, then what GitHub says does not work.
import { describe, expect, it } from 'vitest';
import { parseCodeowners } from './codeowners.ts';
import { GlobLimits } from './glob-limits.ts';
import { translateCodeownersPattern } from './translate-codeowners.ts';
import { compileWholeMatch } from './linear-match.ts';

const githubExample = `# This is a comment.
# Each line is a file pattern followed by one or more owners.
*       @global-owner1 @global-owner2
*.js    @js-owner #This is an inline comment.
*.go docs@example.com
*.txt @octo-org/octocats
/build/logs/ @doctocat
docs/*  docs@example.com
apps/ @octocat
/docs/ @doctocat
/scripts/ @doctocat @octocat
**/logs @octocat
/apps/ @octocat
/apps/github
`;

const matches = (pattern: string, path: string): boolean => {
  const t = translateCodeownersPattern(pattern);
  if ('problem' in t) throw new Error(t.problem);
  return compileWholeMatch(t.source).test(path);
};

describe('CODEOWNERS: the example in "About code owners"', () => {
  const owners = parseCodeowners(githubExample);
  it('parses every line, with the inline comment dropped', () => {
    expect(owners.problems).toEqual([]);
    expect(owners.rules.find((r) => r.pattern === '*.js')?.owners).toEqual(['@js-owner']);
  });
  it('the last matching pattern takes the most precedence', () => {
    expect(owners.ownersOf('README.md')).toEqual(['@global-owner1', '@global-owner2']);
    expect(owners.ownersOf('src/app.js')).toEqual(['@js-owner']);
    expect(owners.ownersOf('main.go')).toEqual(['docs@example.com']);
    expect(owners.ownersOf('notes/todo.txt')).toEqual(['@octo-org/octocats']);
  });
  it('/build/logs/ owns the directory at the root and its subdirectories', () => {
    expect(owners.ownersOf('build/logs/a/b.log')).toEqual(['@octocat']); // `**/logs` comes later
    expect(matches('/build/logs/', 'build/logs/x.log')).toBe(true);
    expect(matches('/build/logs/', 'build/logs/deep/x.log')).toBe(true);
    expect(matches('/build/logs/', 'src/build/logs/x.log')).toBe(false);
  });
  it('docs/* matches docs/getting-started.md but not docs/build-app/troubleshooting.md', () => {
    expect(matches('docs/*', 'docs/getting-started.md')).toBe(true);
    expect(matches('docs/*', 'docs/build-app/troubleshooting.md')).toBe(false);
    expect(matches('docs/*', 'src/docs/a.md')).toBe(false);
  });
  it('apps/ owns any file in an apps directory anywhere', () => {
    expect(matches('apps/', 'apps/a.rb')).toBe(true);
    expect(matches('apps/', 'x/y/apps/z/a.rb')).toBe(true);
    expect(matches('apps/', 'apps')).toBe(false);
  });
  it('**/logs owns files in any logs directory', () => {
    for (const p of ['build/logs/a', 'scripts/logs/b', 'deeply/nested/logs/c', 'logs/d'])
      expect(matches('**/logs', p)).toBe(true);
    expect(matches('**/logs', 'build/logsx/a')).toBe(false);
  });
  it('a line with no owners leaves /apps/github without owners', () => {
    expect(owners.ownersOf('apps/index.js')).toEqual(['@octocat']);
    expect(owners.ownersOf('apps/github/index.js')).toEqual([]);
  });
});

describe('CODEOWNERS: gitignore pattern rules', () => {
  it.each([
    ['foo', 'foo', true],
    ['foo', 'bar/foo/baz', true],
    ['foo', 'foo.txt', false],
    ['/foo', 'bar/foo', false],
    ['/foo', 'foo/bar/baz', true],
    ['foo/bar', 'baz/foo/bar', false],
    ['foo/bar', 'foo/bar/baz', true],
    ['foo/bar/', 'foo/bar', false],
    ['*', 'any/thing/at/all', true],
    ['/*', 'foo', true],
    ['/*', 'foo/bar', false],
    ['f*', 'bar/foo/baz', true],
    ['f*', 'xfoo', false],
    ['foo/*.txt', 'foo/bar.txt', true],
    ['foo/*.txt', 'foo/bar/baz.txt', false],
    ['foo/*/baz', 'foo/bar/baz/qux', true],
    ['foo/*/baz', 'foo/baz', false],
    ['f?o', 'foo', true],
    ['f?o', 'f/o', false],
    ['f?o', 'fooo', false],
    ['**/foo/bar', 'qux/foo/bar/baz', true],
    ['**/foo/bar', 'foo/baz/bar', false],
    ['foo/bar/**', 'foo/bar', false],
    ['foo/bar/**', 'foo/bar/baz/qux', true],
    ['foo/**/bar', 'foo/bar', true],
    ['foo/**/bar', 'foo/a/b/bar/c', true],
    ['foo/**/bar', 'qux/foo/bar', false],
    ['a**b', 'a/x/b', false], // `**` inside a segment is a plain `*`
    ['a**b', 'axxb', true],
    ['f\\*o', 'f*o', true],
    ['f\\*o', 'foo', false],
    ['Docs/', 'docs/a.md', false], // case-sensitive, as GitHub
  ])('%s vs %s → %s', (pattern, path, expected) => {
    expect(matches(pattern, path)).toBe(expected);
  });

  it('a newline in a path does not escape a rule', () => {
    expect(matches('/secret/', 'secret/a\nb')).toBe(true);
    expect(matches('*.key', 'x/a\n.key')).toBe(true);
  });
});

describe('CODEOWNERS: what GitHub says does not work is skipped, and the file is bounded', () => {
  it('negation, [ ] ranges and a \\# escape are invalid lines, skipped with a problem', () => {
    const owners = parseCodeowners('* @all\n!secret/ @nobody\n[ab].txt @x\n\\#notes @y\nok/ @z bogus!\n');
    expect(owners.problems.map((p) => p.line)).toEqual([2, 3, 4, 5]);
    expect(owners.problems[0]?.message).toMatch(/negation/);
    expect(owners.problems[1]?.message).toMatch(/character ranges/);
    expect(owners.problems[2]?.message).toMatch(/leading `#`/);
    expect(owners.problems[3]?.message).toMatch(/not an owner/);
    expect(owners.ownersOf('secret/x')).toEqual(['@all']);
    expect(owners.ownersOf('ok/x')).toEqual(['@all']);
  });
  it('owners: users (also managed `_shortcode` ones), org teams and e-mail addresses are valid', () => {
    const owners = parseCodeowners('* @mona_acme @octo-org/release_team-2 docs@example.com @octocat\n');
    expect(owners.problems).toEqual([]);
    expect(owners.ownersOf('x')).toEqual([
      '@mona_acme',
      '@octo-org/release_team-2',
      'docs@example.com',
      '@octocat',
    ]);
  });
  it('a file of 3 MB or more is not loaded: nobody owns anything (the gate then fails closed)', () => {
    const big = `* @all\n${'#'.repeat(GlobLimits.maxCodeownersBytes)}\n`;
    const owners = parseCodeowners(big);
    expect(owners.loaded).toBe(false);
    expect(owners.ownersOf('a')).toEqual([]);
  });
  it('more rules than the limit: not loaded', () => {
    const many = Array.from({ length: GlobLimits.maxCodeownersRules + 1 }, (_, i) => `f${i} @a`).join('\n');
    expect(parseCodeowners(many).loaded).toBe(false);
  });
  it('an over-long pattern is an invalid line', () => {
    const owners = parseCodeowners(`${'a'.repeat(GlobLimits.maxPatternLength + 1)} @x\n`);
    expect(owners.rules).toEqual([]);
    expect(owners.problems[0]?.message).toMatch(/longer than/);
  });
});
