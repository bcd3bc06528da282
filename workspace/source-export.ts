/**
 * Writing a read-only export of a source: a git commit (`read-tree -u` into a throwaway index:
 * one git process writes the files directly, no archive to unpack) or a plain directory.
 * Exports are built under a temporary name and renamed into place (atomic-dir.ts), so a directory
 * at the final path is always complete; they are keyed by commit, so runs of the same commit share one.
 *
 * Sealed read-only: files lose their write bits and, when we are root, are given to the
 * overflow user (65534). Each task's workspace hard-links these files (engine/workspace-layer.ts);
 * a sandboxed task (another uid in its own user namespace) can replace a file in its own
 * directory but cannot chmod or write a shared inode, since it neither owns it nor holds
 * CAP_DAC_OVERRIDE over it.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { publish, temporaryBeside } from './atomic-dir.ts';
import { SourceTooLargeError } from './source-errors.ts';
import { gitFor, type GitCallOptions } from './source-git.ts';

/** The uid/gid exports are given to when we run as root: nobody, not mapped in a task's namespace. */
export const EXPORT_OWNER = 65534;

export async function exportCommit(
  git: Omit<GitCallOptions, 'indexFile' | 'workTree'>,
  commit: string,
  target: string,
): Promise<void> {
  if (existsSync(target)) return;
  const tmp = temporaryBeside(target);
  const index = `${tmp}.index`;
  mkdirSync(tmp);
  try {
    // `^{commit}`: a tree or a tag named by the run's SHA is refused, not exported.
    await gitFor({ ...git, indexFile: index, workTree: tmp }).raw([
      'read-tree',
      '--reset',
      '-u',
      `${commit}^{commit}`,
    ]);
    sealReadOnly(tmp);
    publish(tmp, target);
  } finally {
    rmSync(index, { force: true });
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
}

/** Folders a directory export leaves out: VCS internals and dependencies installed on the host. */
const SKIPPED = new Set(['.git', 'node_modules']);
/** A plain directory is copied per run: past this many entries, a git repository is the way. */
export const MAX_DIRECTORY_ENTRIES = 20_000;

/**
 * Copies a plain directory (regular files, symlinks as links, folders) and returns the sha256
 * tree digest of what it copied: each entry's path, kind, mode and content hash, sorted.
 */
export function exportDirectory(
  dir: string,
  exportsRoot: string,
  exclude: readonly string[] = [],
): { digest: string; path: string } {
  const tmp = temporaryBeside(join(exportsRoot, 'directory'));
  const lines: string[] = [];
  // The data directory may sit inside the source (`--data-dir ./data`): never copy it into itself.
  const skipped = new Set([...exclude.map((p) => resolve(p)), resolve(exportsRoot)]);
  let entries = 0;
  const walk = (from: string, to: string, rel: string): void => {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from).sort()) {
      if (SKIPPED.has(name)) continue;
      const src = join(from, name);
      if (skipped.has(src)) continue;
      if (++entries > MAX_DIRECTORY_ENTRIES) throw new SourceTooLargeError(dir, MAX_DIRECTORY_ENTRIES);
      const dst = join(to, name);
      const path = rel ? `${rel}/${name}` : name;
      const stat = lstatSync(src);
      if (stat.isDirectory()) walk(src, dst, path);
      else if (stat.isSymbolicLink()) {
        const link = readlinkSync(src);
        symlinkSync(link, dst);
        lines.push(`l ${path} ${link}`);
      } else if (stat.isFile()) {
        copyFileSync(src, dst);
        const hash = createHash('sha256').update(readFileSync(dst)).digest('hex');
        lines.push(`f ${path} ${(stat.mode & 0o111) !== 0 ? 'x' : '-'} ${hash}`);
      }
    }
  };
  try {
    walk(dir, tmp, '');
    sealReadOnly(tmp);
    const digest = `sha256:${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
    const target = join(exportsRoot, exportName(digest));
    if (existsSync(target)) rmSync(tmp, { recursive: true, force: true });
    else publish(tmp, target);
    return { digest, path: target };
  } finally {
    if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
  }
}

/** The folder name of an export: the commit, or the tree digest with `:` made path-safe. */
export function exportName(commit: string): string {
  return commit.replace(':', '-');
}

/** Files become read-only (0444, or 0555 when executable) and, as root, owned by 65534. */
export function sealReadOnly(root: string): void {
  const asRoot = process.getuid?.() === 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      const stat = lstatSync(full);
      if (stat.isDirectory()) walk(full);
      else if (stat.isFile()) {
        chmodSync(full, (stat.mode & 0o111) !== 0 ? 0o555 : 0o444);
        if (asRoot) lchownSync(full, EXPORT_OWNER, EXPORT_OWNER);
      } else if (stat.isSymbolicLink() && asRoot) lchownSync(full, EXPORT_OWNER, EXPORT_OWNER);
    }
  };
  walk(root);
}
