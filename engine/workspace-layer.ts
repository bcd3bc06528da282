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
import { copyFile, link, mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';

export type LayerMode = 'link' | 'copy';

let uid: number | undefined;

/** Asked once per process (a syscall per attempt before): a process's uid does not change. */
export function defaultLayerMode(): LayerMode {
  uid ??= process.getuid?.() ?? -1;
  return uid === 0 ? 'link' : 'copy';
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

/** One entry of an export, relative to it; a folder comes before what it holds. */
interface ExportEntry {
  path: string;
  kind: 'dir' | 'file' | 'symlink';
  /** A symlink's target, as written. */
  target?: string;
}

/** Each export's tree, read once: an export is sealed and never changes (source-export.ts). */
const listings = new Map<string, ExportEntry[]>();
const LISTINGS_KEPT = 16;
/** Four times the thread pool's size: enough to keep it busy, few enough to hold little memory. */
const PLACED_AT_ONCE = 16;

function listExport(exportDir: string): ExportEntry[] {
  const known = listings.get(exportDir);
  if (known) return known;
  const entries: ExportEntry[] = [];
  const walk = (from: string, rel: string): void => {
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      const src = join(from, entry.name);
      if (entry.isDirectory()) {
        entries.push({ path, kind: 'dir' });
        walk(src, path);
      } else if (entry.isSymbolicLink()) entries.push({ path, kind: 'symlink', target: readlinkSync(src) });
      else if (entry.isFile()) entries.push({ path, kind: 'file' });
    }
  };
  walk(exportDir, '');
  if (listings.size >= LISTINGS_KEPT) listings.delete(listings.keys().next().value as string);
  listings.set(exportDir, entries);
  return entries;
}

/**
 * `layerWorkspace` for the engine's attempts, over an export (sealed: its tree is listed once per
 * process): the folders and files are made on the thread pool, the files of a folder in parallel.
 * Not to save CPU: on the bench's two-file source the main thread spends as much either way, and
 * queued costs the process more (bench/run/RESULTS.md); but a synchronous copy of a large source
 * would hold the event loop every other run shares for all of its files. Fails with EEXIST
 * when `workDir` is there, unless `made` says the caller just made it (attempt-dirs.ts claims the
 * name by that mkdir). Returns the files placed.
 */
export async function layerExport(
  exportDir: string,
  workDir: string,
  options: { mode?: LayerMode; made?: boolean } = {},
): Promise<number> {
  const mode = options.mode ?? defaultLayerMode();
  if (!options.made) await mkdir(workDir);
  const entries = listExport(exportDir);
  let files = 0;
  // Folders one after the other (parents first, as listed), then every file and link at once.
  for (const entry of entries) if (entry.kind === 'dir') await mkdir(join(workDir, entry.path));
  const placed = entries.filter((entry) => entry.kind !== 'dir');
  const place = (entry: ExportEntry): Promise<void> => {
    const dst = join(workDir, entry.path);
    if (entry.kind === 'symlink') return symlink(entry.target as string, dst);
    files++;
    const src = join(exportDir, entry.path);
    return mode === 'link' ? link(src, dst) : copyFile(src, dst);
  };
  // At most PLACED_AT_ONCE requests in flight: the quickstart's source is this whole repository
  // (~1,500 files), and as many requests queued at once per attempt were +4 MiB of its peak RSS.
  let next = 0;
  const placer = async (): Promise<void> => {
    while (next < placed.length) await place(placed[next++] as ExportEntry);
  };
  await Promise.all(Array.from({ length: Math.min(PLACED_AT_ONCE, placed.length) }, placer));
  return files;
}

/** Whether `path` shares its inode with the export (for tests and diagnostics). */
export function sharesInode(a: string, b: string): boolean {
  const x = lstatSync(a);
  const y = lstatSync(b);
  return x.ino === y.ino && x.dev === y.dev;
}
