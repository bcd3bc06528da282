/**
 * Each attempt's writable workspace over its run's read-only source export: the folders are new
 * (so the task may create, rename and delete anything in its own tree) and the files are hard
 * links to the export's sealed inodes, so a task costs one link per file and never a copy of the
 * repository. What one task writes reaches no other: it can replace a file in its own folder,
 * not change a shared inode (see workspace/source-export.ts for why it cannot).
 *
 * Hard links are safe only when the export is owned by someone the task is not: the export is
 * given to uid 65534 when the engine runs as root. A non-root engine owns its exports, and so does
 * a task in its user namespace (bubblewrap maps the task's uid to ours), which could chmod a
 * shared inode and write through it: there the files are copied instead.
 */
import {
  copyFileSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  symlinkSync,
} from 'node:fs';
import { join } from 'node:path';

export type LayerMode = 'link' | 'copy';

export function defaultLayerMode(): LayerMode {
  return process.getuid?.() === 0 ? 'link' : 'copy';
}

/** Creates `workDir` holding the export's tree; returns the number of files placed. */
export function layerWorkspace(
  exportDir: string,
  workDir: string,
  mode: LayerMode = defaultLayerMode(),
): number {
  let files = 0;
  const walk = (from: string, to: string): void => {
    mkdirSync(to);
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      const src = join(from, entry.name);
      const dst = join(to, entry.name);
      if (entry.isDirectory()) walk(src, dst);
      else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(src), dst);
      else if (entry.isFile()) {
        if (mode === 'link') linkSync(src, dst);
        else copyFileSync(src, dst);
        files++;
      }
    }
  };
  walk(exportDir, workDir);
  return files;
}

/** Whether `path` shares its inode with the export (for tests and diagnostics). */
export function sharesInode(a: string, b: string): boolean {
  const x = lstatSync(a);
  const y = lstatSync(b);
  return x.ino === y.ino && x.dev === y.dev;
}
