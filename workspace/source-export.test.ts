import { execFileSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportCommit } from './source-export.ts';

const base = realpathSync(mkdtempSync(join(tmpdir(), 'maestro-export-')));
afterAll(() => rmSync(base, { recursive: true, force: true }));
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: base },
  }).trim();

/** A repository with a nested file, an executable and a symlink, checked out sparsely. */
function sparseRepo(): { repo: string; commit: string } {
  const repo = join(base, 'repo');
  mkdirSync(join(repo, 'a', 'b'), { recursive: true });
  git(repo, 'init', '-q');
  writeFileSync(join(repo, 'a', 'b', 'f.txt'), 'nested\n');
  writeFileSync(join(repo, 'run.sh'), 'echo run\n', { mode: 0o755 });
  execFileSync('ln', ['-s', 'run.sh', join(repo, 'link')]);
  git(repo, 'add', '-A');
  git(repo, '-c', 'user.name=t', '-c', 'user.email=t@e', 'commit', '-qm', 'c');
  // The user's own checkout shows only a/: an export is the whole commit all the same.
  git(repo, 'sparse-checkout', 'set', '--no-cone', '/a/');
  return { repo, commit: git(repo, 'rev-parse', 'HEAD') };
}

describe('exportCommit', () => {
  const { repo, commit } = sparseRepo();

  it('writes every file of the commit, modes and links kept, whatever sparse checkout the repository uses', async () => {
    const target = join(base, 'exports', commit);
    mkdirSync(join(base, 'exports'), { recursive: true });
    await exportCommit({ cwd: repo }, commit, target);
    expect(readFileSync(join(target, 'a', 'b', 'f.txt'), 'utf8')).toBe('nested\n');
    expect(readFileSync(join(target, 'run.sh'), 'utf8')).toBe('echo run\n');
    expect(lstatSync(join(target, 'run.sh')).mode & 0o777).toBe(0o555);
    expect(readlinkSync(join(target, 'link'))).toBe('run.sh');
  });

  it('refuses a tree named in place of a commit, and leaves nothing at the target', async () => {
    const tree = git(repo, 'rev-parse', `${commit}^{tree}`);
    const target = join(base, 'exports', tree);
    await expect(exportCommit({ cwd: repo }, tree, target)).rejects.toThrow();
    expect(() => lstatSync(target)).toThrow();
  });
});
