import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findGitTopLevel } from './git-top-level.ts';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-toplevel-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: base },
  }).trim();

describe('findGitTopLevel', () => {
  it('answers as `git rev-parse --show-toplevel` for a repository, a worktree and a folder in neither', () => {
    const repo = join(base, 'repo');
    mkdirSync(join(repo, '.maestro', 'workflows'), { recursive: true });
    git(repo, 'init', '-q');
    writeFileSync(join(repo, 'f'), 'x');
    git(repo, 'add', 'f');
    git(repo, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-qm', 'c');
    const worktree = join(base, 'wt');
    git(repo, 'worktree', 'add', '-q', worktree);
    mkdirSync(join(worktree, 'deep', 'er'), { recursive: true });
    for (const dir of [repo, join(repo, '.maestro', 'workflows'), worktree, join(worktree, 'deep', 'er')])
      expect(findGitTopLevel(dir)).toBe(git(dir, 'rev-parse', '--show-toplevel'));
    const plain = join(base, 'plain', 'sub');
    mkdirSync(plain, { recursive: true });
    expect(() => git(plain, 'rev-parse', '--show-toplevel')).toThrow();
    expect(findGitTopLevel(plain)).toBeUndefined();
  });

  it('takes no stray `.git` for a repository: an empty folder or a file that names no git dir', () => {
    const fake = join(base, 'fake');
    mkdirSync(join(fake, '.git'), { recursive: true });
    expect(findGitTopLevel(fake)).toBeUndefined();
    const file = join(base, 'file');
    mkdirSync(file);
    writeFileSync(join(file, '.git'), 'not a pointer');
    expect(findGitTopLevel(file)).toBeUndefined();
    expect(findGitTopLevel(join(base, 'missing'))).toBeUndefined();
  });
});
