/**
 * Artifacts between tasks. A task declares workspace paths (`artifacts:`); when it ends, the
 * engine keeps them, content-addressed under `<data-dir>/artifacts/sha256/<hex>` and hard-linked
 * into the attempt's artifacts directory (what the receipt digests and the cache reuses). Each
 * task that needs it receives them under `$MAESTRO_ARTIFACTS/<task>/`, read-only: the files are
 * the sealed content-addressed inodes (or copies, where the engine cannot give them away; see
 * workspace-layer.ts), the folders are read-only too.
 *
 * The workspace belongs to the task, so nothing in it is trusted: a declared path is walked one
 * component at a time without following a symlink (a task could point `dist` at the signing key),
 * and only regular files and folders are kept.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { DigestedFile } from '../core/index.ts';
import {
  digestArtifacts,
  kindOf,
  openRegularFile,
  readdirIfThere,
  type SkippedArtifact,
} from './artifacts.ts';
import { defaultLayerMode, type LayerMode } from './workspace-layer.ts';

const OWNER = 65534;

export function contentStoreDir(dataDir: string): string {
  return join(dataDir, 'artifacts', 'sha256');
}

/**
 * Copies one regular file (opened without following a symlink) into the store and returns the
 * name of its object: the sha256, with `.x` for an executable (the digest covers the bytes only;
 * the mode is kept so a built program stays runnable where it is received).
 */
function storeFile(full: string, store: string): { object: string; size: number } | undefined {
  const opened = openRegularFile(full);
  if (!opened) return undefined;
  const { fd, stat } = opened;
  const tmp = join(store, `.tmp-${randomBytes(8).toString('hex')}`);
  try {
    mkdirSync(store, { recursive: true });
    const out = openSync(tmp, 'wx', 0o444);
    const hash = createHash('sha256');
    const buffer = Buffer.allocUnsafe(1 << 16);
    let size = 0;
    try {
      for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; size += n) {
        hash.update(buffer.subarray(0, n));
        writeSync(out, buffer, 0, n);
      }
    } finally {
      closeSync(out);
    }
    const executable = (stat.mode & 0o111) !== 0;
    const object = `${hash.digest('hex')}${executable ? '.x' : ''}`;
    const target = join(store, object);
    if (existsSync(target)) rmSync(tmp);
    else {
      if (executable) chmodSync(tmp, 0o555);
      if (process.getuid?.() === 0) lchownSync(tmp, OWNER, OWNER);
      renameSync(tmp, target);
    }
    return { object, size };
  } finally {
    closeSync(fd);
    if (existsSync(tmp)) rmSync(tmp);
  }
}

export interface CollectResult {
  files: DigestedFile[];
  /** Declared paths that were not there (or not a file or folder). */
  missing: string[];
}

/**
 * Keeps the declared paths of `workDir` in the content store and links them into `outDir` under
 * the same relative paths. Symlinks and special files are reported through `onSkip`.
 */
export function collectArtifacts(
  workDir: string,
  declared: readonly string[],
  outDir: string,
  store: string,
  onSkip: (skipped: SkippedArtifact) => void,
): CollectResult {
  const missing: string[] = [];
  const keep = (full: string, rel: string): void => {
    const stat = lstatSync(full);
    if (stat.isDirectory()) {
      for (const name of readdirSync(full).sort()) keep(join(full, name), `${rel}/${name}`);
      return;
    }
    const stored = stat.isFile() ? storeFile(full, store) : undefined;
    if (!stored) return onSkip({ path: rel, kind: stat.isFile() ? 'symlink' : kindOf(stat) });
    const target = join(outDir, rel);
    mkdirSync(dirname(target), { recursive: true });
    if (!existsSync(target)) linkSync(join(store, stored.object), target);
  };
  for (const path of declared) {
    const full = safeResolve(workDir, path);
    if (full === 'symlink') onSkip({ path, kind: 'symlink' });
    else if (full === undefined) missing.push(path);
    else keep(full, path);
  }
  return { files: digestArtifacts(outDir), missing };
}

/** `workDir/path` when no component of `path` is a symlink; 'symlink' if one is; undefined if absent. */
function safeResolve(workDir: string, path: string): string | 'symlink' | undefined {
  let current = workDir;
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return undefined;
    current = join(current, segment);
    let stat;
    try {
      stat = lstatSync(current);
    } catch {
      return undefined;
    }
    if (stat.isSymbolicLink()) return 'symlink';
  }
  return current;
}

export interface ProducedArtifacts {
  taskId: string;
  /** The producing attempt's artifacts directory. */
  dir: string;
}

/**
 * Places each producer's artifacts under `inputsDir/<task>/`, read-only, and returns them with
 * their digests (paths `<task>/<path>`), for the cache key and the receipt.
 */
export function stageInputs(
  producers: readonly ProducedArtifacts[],
  inputsDir: string,
  mode: LayerMode = defaultLayerMode(),
): DigestedFile[] {
  const staged: DigestedFile[] = [];
  for (const producer of producers) {
    const files = digestArtifacts(producer.dir);
    const root = join(inputsDir, producer.taskId);
    mkdirSync(root, { recursive: true });
    for (const file of files) {
      const target = join(root, file.path);
      mkdirSync(dirname(target), { recursive: true });
      if (mode === 'link') linkSync(join(producer.dir, file.path), target);
      else {
        copyFileSync(join(producer.dir, file.path), target);
        chmodSync(target, (lstatSync(join(producer.dir, file.path)).mode & 0o111) !== 0 ? 0o555 : 0o444);
      }
      staged.push({ ...file, path: `${producer.taskId}/${file.path}` });
    }
    sealFolders(root);
  }
  return staged;
}

export function sealFolders(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }))
    if (entry.isDirectory()) sealFolders(join(dir, entry.name));
  chmodSync(dir, 0o555);
}

/** Entries a task wrote at the top of $MAESTRO_ARTIFACTS (the old place for outputs): to warn. */
export function strayInputs(inputsDir: string, staged: ReadonlySet<string>): string[] {
  return readdirIfThere(inputsDir).filter((name) => !staged.has(name));
}
