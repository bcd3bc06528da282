import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Runs git with a fixed environment so commits are reproducible and independent of the host. */
export function git(cwd: string, args: string[], env: Record<string, string> = {}): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_DATE: '2026-01-01T00:00:00Z',
      GIT_COMMITTER_DATE: '2026-01-01T00:00:00Z',
      ...env,
    },
  }).trim();
}

/**
 * A real bare repository built by a test, with a scratch work tree to make commits from. The
 * author and committer are GitHub logins (email `<login>@users.noreply.github.com`), so the
 * stand-in can report commit authors as GitHub does.
 */
export class TestRepository {
  readonly bareDir: string;
  readonly #work: string;
  readonly #root: string;

  constructor(defaultBranch = 'main') {
    this.#root = mkdtempSync(join(tmpdir(), 'maestro-standin-repo-'));
    this.bareDir = join(this.#root, 'repo.git');
    this.#work = join(this.#root, 'work');
    mkdirSync(this.#work);
    git(this.#root, ['init', '--bare', '--initial-branch', defaultBranch, this.bareDir]);
    git(this.#work, ['init', '--initial-branch', defaultBranch]);
    git(this.#work, ['remote', 'add', 'origin', this.bareDir]);
  }

  /**
   * Commits `files` (path → content; null deletes) on `branch` as `login` and pushes it to the
   * bare repository. `from` starts the branch at another commit (for rebases and PR branches).
   */
  commit(options: {
    branch: string;
    files: Record<string, string | null>;
    login: string;
    message?: string;
    from?: string;
  }): string {
    const env = {
      GIT_AUTHOR_NAME: options.login,
      GIT_AUTHOR_EMAIL: `${options.login}@users.noreply.github.com`,
      GIT_COMMITTER_NAME: options.login,
      GIT_COMMITTER_EMAIL: `${options.login}@users.noreply.github.com`,
    };
    if (options.from) git(this.#work, ['checkout', '-q', '-B', options.branch, options.from]);
    else {
      const exists = git(this.#work, ['branch', '--list', options.branch]) !== '';
      const hasHead = this.#hasHead();
      if (exists) git(this.#work, ['checkout', '-q', options.branch]);
      else if (hasHead) git(this.#work, ['checkout', '-q', '-b', options.branch]);
      else git(this.#work, ['checkout', '-q', '--orphan', options.branch]);
    }
    for (const [path, content] of Object.entries(options.files)) {
      const full = join(this.#work, path);
      if (content === null) rmSync(full, { force: true });
      else {
        mkdirSync(dirname(full), { recursive: true });
        writeFileSync(full, content);
      }
    }
    git(this.#work, ['add', '-A']);
    git(this.#work, ['commit', '-q', '--allow-empty', '-m', options.message ?? 'change'], env);
    git(this.#work, ['push', '-q', '-f', 'origin', `HEAD:refs/heads/${options.branch}`]);
    return git(this.#work, ['rev-parse', 'HEAD']);
  }

  /**
   * Appends `count` commits to `branch` in the bare repository with one `git fast-import` (each
   * changes `path` to a unique line), starting from `from`. Returns their SHAs, oldest first.
   */
  fastCommits(options: {
    branch: string;
    from: string;
    count: number;
    path: string;
    login: string;
  }): string[] {
    const who = `${options.login} <${options.login}@users.noreply.github.com> 1767225600 +0000`;
    const parts: string[] = [];
    for (let i = 0; i < options.count; i += 1) {
      const message = `bench ${i}`;
      const content = `line ${i}\n`;
      parts.push(
        `commit refs/heads/${options.branch}\nauthor ${who}\ncommitter ${who}\ndata ${Buffer.byteLength(message)}\n${message}\n` +
          (i === 0 ? `from ${options.from}\n` : '') +
          `M 100644 inline ${options.path}\ndata ${Buffer.byteLength(content)}\n${content}\n`,
      );
    }
    execFileSync('git', ['fast-import', '--quiet'], { cwd: this.bareDir, input: parts.join('') });
    return git(this.bareDir, [
      'rev-list',
      '--reverse',
      `${options.from}..refs/heads/${options.branch}`,
    ]).split('\n');
  }

  /** What GitHub does for every pull request: its head as `refs/pull/<n>/head` of the base. */
  publishPullHead(number: number, sha: string): void {
    git(this.bareDir, ['update-ref', `refs/pull/${number}/head`, sha]);
  }

  /** Copies `fromRef` of another bare repository into this one as `toRef` (a fork's branch). */
  receive(fromBareDir: string, fromRef: string, toRef: string): void {
    git(this.bareDir, ['fetch', '-q', fromBareDir, `+${fromRef}:${toRef}`]);
  }

  /** Deletes a branch from the bare repository (its commits stay reachable from other refs). */
  deleteBranch(branch: string): void {
    git(this.bareDir, ['update-ref', '-d', `refs/heads/${branch}`]);
  }

  #hasHead(): boolean {
    try {
      git(this.#work, ['rev-parse', '--verify', '-q', 'HEAD']);
      return true;
    } catch {
      return false;
    }
  }

  remove(): void {
    rmSync(this.#root, { recursive: true, force: true });
  }
}
