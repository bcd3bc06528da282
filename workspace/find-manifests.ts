import { readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { UsageError } from '../core/index.ts';

/** Folders a directory search never enters: dependencies and VCS internals hold no manifests of ours. */
const SKIPPED_DIRS = new Set(['node_modules', '.git']);
/** The folders under `.maestro/` that hold manifests (DESIGN.md: manifests live in a repository). */
const MANIFEST_DIRS = new Set(['workflows', 'runbooks']);
const MANIFEST_FILE = /\.ya?ml$/i;

export interface ManifestFile {
  /** Absolute path, for reading. */
  path: string;
  /** The path shown to people and to GitHub: relative to `root` when inside it, with `/` separators. */
  display: string;
  /**
   * Set when the path is (or passes through) a symlink resolving outside the repository root:
   * the file must not be read (a pull request could otherwise have `/etc/passwd` or a runner's
   * credentials compiled and quoted into annotations). `target` is where the link leads.
   */
  outsideRoot?: { target: string };
}

export interface FindManifestsOptions {
  /** Where relative arguments are resolved from. */
  cwd: string;
  /** Paths inside this folder are displayed relative to it (the repository root for annotations). Defaults to `cwd`. */
  root?: string;
}

/**
 * Expands the arguments of `maestro validate` and the Action's `path` input into manifest files.
 * A file is taken as given (whatever its name); a directory is searched at any depth for
 * `.maestro/workflows/*.y(a)ml` and `.maestro/runbooks/*.y(a)ml`. The result is sorted and free
 * of duplicates so output is stable. A path that does not exist is a usage error.
 */
export function findManifests(paths: readonly string[], options: FindManifestsOptions): ManifestFile[] {
  const root = resolve(options.cwd, options.root ?? options.cwd);
  // Each file with the folder its real path must stay inside: the root, or for an argument outside
  // the root the folder given (or the file's own folder), so no argument follows links elsewhere.
  const found = new Map<string, string>();
  for (const given of paths) {
    const absolute = resolve(options.cwd, given);
    const stat = statSync(absolute, { throwIfNoEntry: false });
    if (!stat) throw new UsageError(`no such file or directory: ${given}`);
    const base = isInside(absolute, root) ? root : stat.isDirectory() ? absolute : dirname(absolute);
    if (stat.isDirectory()) {
      const before = found.size;
      searchDirectory(absolute, (file) => found.set(file, found.get(file) ?? base));
      if (found.size === before)
        throw new UsageError(`no manifests found under ${given}`, {
          hint: 'manifests live in .maestro/workflows/*.yaml or .maestro/runbooks/*.yaml; pass a file to check it directly',
        });
    } else {
      found.set(absolute, found.get(absolute) ?? base);
    }
  }
  return [...found.keys()].sort().map((path) => {
    const file: ManifestFile = { path, display: displayPath(path, root) };
    const target = realpathSync(path);
    if (!isInside(target, realpathSync(found.get(path) as string))) file.outsideRoot = { target };
    else file.path = target; // read what was checked, not the link again
    return file;
  });
}

function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function searchDirectory(dir: string, add: (file: string) => void): void {
  const collect = MANIFEST_DIRS.has(basename(dir)) && basename(dirname(dir)) === '.maestro';
  // withFileTypes reports symlinks as links, so a symlinked folder is never entered (no loops).
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_DIRS.has(entry.name)) searchDirectory(full, add);
    } else if (collect && MANIFEST_FILE.test(entry.name) && isFile(full)) {
      add(full);
    }
  }
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

function displayPath(path: string, root: string): string {
  const rel = relative(root, path);
  const shown = rel === '' || rel.startsWith('..') || isAbsolute(rel) ? path : rel;
  return shown.split(sep).join('/');
}
