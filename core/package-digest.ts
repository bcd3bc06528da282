/**
 * A task package's code digest: sha256 over its files, sorted by relative path (`/`-separated):
 * for each file its path, a NUL, its byte length, a NUL and its bytes. One function for the
 * built-in tasks, a repository's tasks (read from disk or, by the App, from git blobs) and a
 * locked catalog task (checked again after every fetch), so the three can never disagree.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, type Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface PackageFile {
  /** Relative to the package folder, `/`-separated. */
  path: string;
  bytes: Uint8Array;
}

/** The digest of files already read (the App reads a task folder's blobs from GitHub). */
export function digestPackageFiles(files: readonly PackageFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`${file.path}\0${file.bytes.byteLength}\0`);
    hash.update(file.bytes);
  }
  return `sha256:${hash.digest('hex')}`;
}

/** Tests (`*.test.ts`) are not part of a package. */
export function isPackageFile(path: string): boolean {
  return !path.endsWith('.test.ts');
}

/** The digest of the regular files under `folder` (tests left out). */
export async function packageDigest(folder: string): Promise<string> {
  const files: PackageFile[] = [];
  for (const path of packagePaths(folder, await readdir(folder, { recursive: true, withFileTypes: true })))
    files.push({ path, bytes: await readFile(join(folder, path)) });
  return digestPackageFiles(files);
}

/** packageDigest without yielding: for a catalog read on first use inside a synchronous compile. */
export function packageDigestSync(folder: string): string {
  return digestPackageFiles(
    packagePaths(folder, readdirSync(folder, { recursive: true, withFileTypes: true })).map((path) => ({
      path,
      bytes: readFileSync(join(folder, path)),
    })),
  );
}

function packagePaths(folder: string, dirents: readonly Dirent[]): string[] {
  return dirents
    .filter((d) => d.isFile() && isPackageFile(d.name))
    .map((d) => relative(folder, join(d.parentPath, d.name)).split(sep).join('/'));
}
