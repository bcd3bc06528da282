// GitHub Actions branch/path filters, from the "Filter pattern cheat sheet" of "Workflow syntax
// for GitHub Actions": each row of its two tables, then negation order, then refusals.
import { describe, expect, it } from 'vitest';
import { GlobError } from '../errors.ts';
import { checkFilterPatterns, compileFilterPatterns, matchesRefFilter } from './ref-filter.ts';

const test = (patterns: string[], subject: string) => compileFilterPatterns(patterns).test(subject);

describe('patterns to match branches and tags', () => {
  it.each([
    ['feature/*', ['feature/my-branch', 'feature/your-branch'], ['feature/a/b']],
    ['feature/**', ['feature/beta-a/my-branch', 'feature/your-branch', 'feature/mona/the/octocat'], ['main']],
    ['main', ['main'], ['main2', 'x/main']],
    ['releases/mona-the-octocat', ['releases/mona-the-octocat'], ['releases/mona']],
    ['*', ['main', 'releases'], ['all/the/branches']],
    ['**', ['all/the/branches', 'every/tag'], []],
    ['*feature', ['mona-feature', 'feature', 'ver-10-feature'], ['feature-x']],
    ['v2*', ['v2', 'v2.0', 'v2.9'], ['v3', 'v2/x']],
    ['v[12].[0-9]+.[0-9]+', ['v1.10.1', 'v2.0.0'], ['v3.0.0', 'v1.x.1', 'v1.10']],
  ])('%s', (pattern, yes, no) => {
    for (const name of yes) expect(test([pattern], name), name).toBe(true);
    for (const name of no) expect(test([pattern], name), name).toBe(false);
  });
});

describe('patterns to match file paths', () => {
  it.each([
    ['*', ['README.md', 'server.rb'], ['docs/file.txt']],
    ['*.jsx?', ['page.js', 'page.jsx'], ['page.jsxx', 'a/page.js']],
    ['**', ['all/the/files.md'], []],
    ['*.js', ['app.js', 'index.js'], ['js/index.js']],
    ['**.js', ['index.js', 'js/index.js', 'src/js/app.js'], ['index.ts']],
    ['docs/*', ['docs/README.md', 'docs/file.txt'], ['docs/mona/octocat.txt']],
    ['docs/**', ['docs/README.md', 'docs/mona/octocat.txt'], ['src/docs/a']],
    [
      'docs/**/*.md',
      ['docs/README.md', 'docs/mona/hello-world.md', 'docs/a/markdown/file.md'],
      ['docs/a.txt'],
    ],
    ['**/docs/**', ['docs/hello.md', 'dir/docs/my-file.txt', 'space/docs/plan/space.doc'], ['docsx/a']],
    ['**/README.md', ['README.md', 'js/README.md'], ['README.mdx']],
    ['**/*src/**', ['a/src/app.js', 'my-src/code/js/app.js'], ['src.js']],
    ['**/*-post.md', ['my-post.md', 'path/their-post.md'], ['post.md']],
    [
      '**/migrate-*.sql',
      ['migrate-10909.sql', 'db/migrate-v1.0.sql', 'db/sept/migrate-v1.sql'],
      ['migrate.sql'],
    ],
  ])('%s', (pattern, yes, no) => {
    for (const path of yes) expect(test([pattern], path), path).toBe(true);
    for (const path of no) expect(test([pattern], path), path).toBe(false);
  });

  it("'*.md', '!README.md': a later negative pattern excludes", () => {
    const list = ['*.md', '!README.md'];
    expect(test(list, 'hello.md')).toBe(true);
    expect(test(list, 'README.md')).toBe(false);
    expect(test(list, 'docs/hello.md')).toBe(false);
  });

  it("'*.md', '!README.md', 'README*': a later positive pattern re-includes", () => {
    const list = ['*.md', '!README.md', 'README*'];
    for (const path of ['hello.md', 'README.md', 'README.doc']) expect(test(list, path), path).toBe(true);
  });
});

describe('branches with negation (the releases/**-alpha example)', () => {
  const list = ['releases/**', '!releases/**-alpha'];
  it('runs for releases/10 and releases/beta/mona, not for the -alpha ones', () => {
    expect(test(list, 'releases/10')).toBe(true);
    expect(test(list, 'releases/beta/mona')).toBe(true);
    expect(test(list, 'releases/10-alpha')).toBe(false);
    expect(test(list, 'releases/beta/3-alpha')).toBe(false);
  });
});

describe('escapes and refusals', () => {
  it('a backslash makes a special character literal', () => {
    expect(test(['foo\\+'], 'foo+')).toBe(true);
    expect(test(['foo\\+'], 'foo')).toBe(false);
    expect(test(['foo+'], 'fooo')).toBe(true);
    expect(test(['a\\*b'], 'a*b')).toBe(true);
    expect(test(['a\\*b'], 'axb')).toBe(false);
  });
  it('regular-expression characters in a pattern are literal', () => {
    expect(test(['a.b(c)|{d}^$'], 'a.b(c)|{d}^$')).toBe(true);
    expect(test(['a.b'], 'axb')).toBe(false);
  });
  it.each([
    ['+x', /repeats nothing/],
    ['*?', /repeats nothing/],
    ['a??', /repeats nothing/],
    ['[a-z', /never closed/],
    ['[]', /lists no character/],
    ['[!a]', /negated character sets/],
    ['[a-Z]', /not within/],
    ['[z-a]', /not within/],
    ['[a/b]', /may not contain/],
    ['!', /negates nothing/],
    ['x\\', /lone/],
  ])('%s is refused', (pattern, message) => {
    expect(checkFilterPatterns([pattern])[0]?.message).toMatch(message);
    expect(() => compileFilterPatterns([pattern])).toThrow(GlobError);
  });
  it('a list of only negations is refused (GitHub requires a positive pattern)', () => {
    expect(checkFilterPatterns(['!main'])[0]?.message).toMatch(/every pattern starts with `!`/);
  });
  it('lists and patterns over the limits are refused', () => {
    expect(checkFilterPatterns(Array(101).fill('a'))[0]?.message).toMatch(/more than 100/);
    expect(checkFilterPatterns(['a'.repeat(1025)])[0]?.message).toMatch(/longer than 1024/);
  });
});

describe('matchesRefFilter', () => {
  it('no filter never matches; an empty one matches every branch and change', () => {
    expect(matchesRefFilter(undefined, 'main', [])).toBe(false);
    expect(matchesRefFilter({}, 'anything', ['a'])).toBe(true);
  });
  it('branches and paths must both match; unknown changes skip the paths check', () => {
    const filter = { branches: ['main', 'release/*'], paths: ['src/**', '!src/**/*.md'] };
    expect(matchesRefFilter(filter, 'release/1', ['src/a.ts'])).toBe(true);
    expect(matchesRefFilter(filter, 'feature/x', ['src/a.ts'])).toBe(false);
    expect(matchesRefFilter(filter, 'main', ['src/docs/a.md', 'README'])).toBe(false);
    expect(matchesRefFilter(filter, 'main', ['src/docs/a.md', 'src/b.ts'])).toBe(true);
    expect(matchesRefFilter(filter, 'main', undefined)).toBe(true);
  });
  it('an invalid pattern in a stored plan fails closed (throws, no run)', () => {
    expect(() => matchesRefFilter({ branches: ['[oops'] }, 'main', undefined)).toThrow(GlobError);
  });
});
