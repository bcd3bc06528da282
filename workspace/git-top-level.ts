/**
 * The top level of the git repository holding a folder, found the way git finds it, without
 * starting git: walking up from the folder's real path to the first folder with a `.git`
 * directory holding HEAD or a `.git` file naming the git dir (a worktree or a submodule),
 * stopping at the file system's boundary as git does (GIT_DISCOVERY_ACROSS_FILESYSTEM unset; our
 * git calls pass no GIT_* variables). Starting git and loading simple-git for `rev-parse
 * --show-toplevel` was ~40 ms of `maestro validate`'s start-up (issue 18). A repository owned by
 * another user is git's to judge (safe.directory): the answer is then 'ask-git'.
 */
import { closeSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function findGitTopLevel(start: string): string | 'ask-git' | undefined {
  let dir: string;
  try {
    dir = realpathSync(start);
  } catch {
    return undefined;
  }
  const device = statSync(dir).dev;
  for (;;) {
    const dotGit = statSync(join(dir, '.git'), { throwIfNoEntry: false });
    if (dotGit !== undefined && isRepository(join(dir, '.git'), dotGit.isDirectory())) {
      const uid = process.getuid?.();
      return uid !== undefined && statSync(dir).uid !== uid ? 'ask-git' : dir;
    }
    const parent = dirname(dir);
    if (parent === dir || statSync(parent).dev !== device) return undefined;
    dir = parent;
  }
}

function isRepository(dotGit: string, isDirectory: boolean): boolean {
  if (isDirectory) return statSync(join(dotGit, 'HEAD'), { throwIfNoEntry: false })?.isFile() === true;
  try {
    const fd = openSync(dotGit, 'r');
    try {
      const head = Buffer.alloc(8);
      return readSync(fd, head, 0, 8, 0) === 8 && head.toString('latin1') === 'gitdir: ';
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}
