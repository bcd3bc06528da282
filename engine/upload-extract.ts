/**
 * Extracts the tar a pod uploaded of its declared artifacts (engine/artifact-upload.ts) into a
 * fresh folder the engine then keeps from, as it keeps a local task's workspace. The pod is not
 * trusted: whatever its script was told, the bytes may be anything. Written by hand over
 * node-tar's parser (not `tar.x`, which strips `..` and leading `/` with a warning and extracts
 * links): each entry is checked first, and the whole upload is refused on the first one that
 * is not a clean relative path under a declared path (`..`, an absolute path, a `.` or empty
 * segment, a path the task did not declare), a hard link to anything but a file this upload
 * wrote, an unknown entry type, a duplicate, or a truncated or malformed stream. Symbolic links
 * and special files are never created: they are reported as not kept, as for a local task.
 * Nothing outside `into` can be written: no link is ever made, so every parent is a real folder.
 */
import { once } from 'node:events';
import { constants, createWriteStream, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { copyFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { finished } from 'node:stream/promises';
import type * as Tar from 'tar';
import type { ReadEntry } from 'tar';
import { Fault, MaestroError, isMaestroError } from '../core/index.ts';
import type { SkippedArtifact } from './artifacts.ts';

// node-tar loads with the first upload: only pods' artifacts come as a tar, and every local run
// imports the engine (issue 18, memory). scripts/build-action.ts turns requireHere into require.
const requireHere = createRequire(import.meta.url);
const tarLibrary = (): typeof Tar => requireHere('tar') as typeof Tar;

/** Entries beyond this are refused (a tar of empty files costs 512 bytes each). */
const MAX_ENTRIES = 100_000;

/** An upload that is not a tar of the declared paths: refused as a whole, nothing of it kept. */
export class ArtifactUploadRefusedError extends MaestroError {
  constructor(message: string) {
    super('artifact_upload_refused', `the pod's upload was refused: ${message}`, {
      fault: Fault.user,
      retryable: false,
      hint: 'the upload holds only the paths the task declares in `artifacts:`, as regular files and folders; a task that changes what its sidecar uploads is refused',
    });
  }
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
const SKIPPED: Record<string, SkippedArtifact['kind']> = {
  SymbolicLink: 'symlink',
  FIFO: 'fifo',
  CharacterDevice: 'device',
  BlockDevice: 'device',
};

/** The entry's path without a directory's trailing `/`, refused unless clean and relative. */
export function checkEntryPath(raw: string): string {
  const path = raw.replace(/\/+$/, '');
  const shown = JSON.stringify(raw);
  if (path === '' || raw.startsWith('/') || path.includes('\0'))
    throw new ArtifactUploadRefusedError(`entry ${shown} has an absolute or empty path`);
  if (path.split('/').some((part) => part === '..' || part === '.' || part === ''))
    throw new ArtifactUploadRefusedError(`entry ${shown} has a '..', '.' or empty segment`);
  return path;
}

const under = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

export interface ExtractResult {
  entries: number;
  bytes: number;
}

/**
 * Writes the upload's files under `into` (which must be empty or absent), refusing it as a whole
 * as described above. Symlinks and special files go to `onSkip` and are not created.
 */
export async function extractUpload(
  source: AsyncIterable<Uint8Array>,
  declared: readonly string[],
  into: string,
  onSkip: (skipped: SkippedArtifact) => void,
): Promise<ExtractResult> {
  mkdirSync(into, { recursive: true });
  // Each file this upload wrote, by path, with the promise of its write (a hard link waits on it).
  const written = new Map<string, Promise<void>>();
  const writes: Promise<void>[] = [];
  const result: ExtractResult = { entries: 0, bytes: 0 };
  let failure: unknown;
  const fail = (error: unknown) => {
    failure ??= isMaestroError(error) ? error : new ArtifactUploadRefusedError(String(error));
  };
  const parser = new (tarLibrary().Parser)({
    strict: true,
    onwarn: (code, message) => fail(new ArtifactUploadRefusedError(`malformed tar (${code}): ${message}`)),
  });
  parser.on('entry', (entry: ReadEntry) => {
    if (failure) return entry.resume();
    try {
      const write = acceptEntry(entry, declared, into, written, onSkip);
      result.entries += 1;
      result.bytes += entry.size ?? 0;
      if (result.entries > MAX_ENTRIES)
        throw new ArtifactUploadRefusedError(`more than ${MAX_ENTRIES} entries`);
      if (write) writes.push(write.catch(fail));
      if (!FILE_TYPES.has(entry.type)) entry.resume();
    } catch (error) {
      fail(error);
      entry.resume();
    }
  });
  parser.on('error', (error: Error) =>
    fail(new ArtifactUploadRefusedError(`malformed tar: ${error.message}`)),
  );
  // Not events.once: it rejects on the parser's 'error', which is recorded above instead.
  const closed = new Promise((resolve) => parser.on('close', resolve));
  try {
    for await (const chunk of source) {
      if (failure) break;
      if (!parser.write(Buffer.from(chunk))) await once(parser, 'drain');
    }
  } catch (error) {
    // The source's own failure (too large, the store unreachable) is the reason, as it is.
    fail(error);
  }
  parser.end();
  await closed;
  await Promise.all(writes);
  if (failure) throw failure;
  return result;
}

/** Checks one entry and starts writing it; undefined when there is nothing to write. */
function acceptEntry(
  entry: ReadEntry,
  declared: readonly string[],
  into: string,
  written: Map<string, Promise<void>>,
  onSkip: (skipped: SkippedArtifact) => void,
): Promise<void> | undefined {
  const path = checkEntryPath(entry.path);
  const ancestor = entry.type === 'Directory' && declared.some((d) => d.startsWith(`${path}/`));
  if (!ancestor && !declared.some((d) => under(path, d)))
    throw new ArtifactUploadRefusedError(
      `entry ${JSON.stringify(path)} is not under a declared artifact (${declared.join(', ')})`,
    );
  if (written.has(path)) throw new ArtifactUploadRefusedError(`entry ${JSON.stringify(path)} appears twice`);
  const target = join(into, path);
  if (entry.type === 'Directory') {
    mkdirSync(target, { recursive: true });
    return undefined;
  }
  const skipped = SKIPPED[entry.type];
  if (skipped) {
    onSkip({ path, kind: skipped });
    return undefined;
  }
  if (entry.type === 'Link') {
    // A hard link (tar's way of storing a second name of one file): a copy of a file this
    // upload already wrote, never a link to anything on the engine's disk.
    const linked = checkEntryPath(entry.linkpath ?? '');
    const original = written.get(linked);
    if (!original)
      throw new ArtifactUploadRefusedError(
        `entry ${JSON.stringify(path)} is a hard link to ${JSON.stringify(linked)}, which is not a file of this upload`,
      );
    mkdirSync(dirname(target), { recursive: true });
    const copy = original.then(() => copyFile(join(into, linked), target, constants.COPYFILE_EXCL));
    written.set(path, copy);
    return copy;
  }
  if (!FILE_TYPES.has(entry.type))
    throw new ArtifactUploadRefusedError(
      `entry ${JSON.stringify(path)} is a ${entry.type}, not a file or folder`,
    );
  mkdirSync(dirname(target), { recursive: true });
  // `wx`: never over something already there. The mode keeps only the executable bit.
  const out = createWriteStream(target, { flags: 'wx', mode: (entry.mode ?? 0) & 0o111 ? 0o755 : 0o644 });
  entry.pipe(out);
  const write = finished(out).then(() => {
    if (out.bytesWritten !== entry.size)
      throw new ArtifactUploadRefusedError(`entry ${JSON.stringify(path)} is truncated`);
  });
  written.set(path, write);
  return write;
}
