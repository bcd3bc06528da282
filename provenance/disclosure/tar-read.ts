import { gunzipSync } from 'node:zlib';
import type { ReadEntry } from 'tar';
import { ProvenanceError, RejectReason } from '../errors.ts';
import { tarLibrary } from '../libraries.ts';

export interface ReadLimits {
  /** Largest decompressed archive accepted. */
  maxTotalBytes: number;
  /** Largest single file accepted. */
  maxEntryBytes: number;
  maxEntries: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = {
  maxTotalBytes: 512 * 1024 * 1024,
  maxEntryBytes: 256 * 1024 * 1024,
  maxEntries: 100_000,
};

const BLOCK = 512;

/**
 * Reads an untrusted .tgz into memory, never touching the disk. Only regular files with clean
 * relative paths are accepted; links, devices, `..`, absolute paths, duplicates, oversize entries
 * and truncated input are each rejected with their own reason before anyone looks at content.
 */
export async function readTgzStrict(
  tgz: Uint8Array,
  limits: ReadLimits = DEFAULT_READ_LIMITS,
): Promise<Map<string, Buffer>> {
  if (tgz.length < 2 || tgz[0] !== 0x1f || tgz[1] !== 0x8b)
    throw new ProvenanceError(RejectReason.notGzip, 'the archive is not gzip-compressed (expected a .tgz)');
  const tar = gunzipBounded(tgz, limits.maxTotalBytes);
  checkEndOfArchive(tar);
  return parseTar(tar, limits);
}

function gunzipBounded(tgz: Uint8Array, max: number): Buffer {
  try {
    return gunzipSync(tgz, { maxOutputLength: max });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE' || cause instanceof RangeError)
      throw new ProvenanceError(RejectReason.oversize, `the archive expands beyond ${max} bytes`, { cause });
    if (code === 'Z_BUF_ERROR' || /unexpected end/i.test(String((cause as Error).message)))
      throw new ProvenanceError(
        RejectReason.truncatedArchive,
        'the archive is truncated (the gzip stream ends early)',
        { cause },
      );
    throw new ProvenanceError(
      RejectReason.archiveMalformed,
      `the gzip stream is corrupt: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/** A complete tar ends on a block boundary with two zero blocks; anything else was cut short. */
function checkEndOfArchive(tar: Buffer): void {
  const end = tar.length;
  const ok = end >= 2 * BLOCK && end % BLOCK === 0 && tar.subarray(end - 2 * BLOCK).every((b) => b === 0);
  if (!ok)
    throw new ProvenanceError(
      RejectReason.truncatedArchive,
      'the tar stream is truncated (no end-of-archive blocks)',
    );
}

function checkPath(path: string): void {
  if (path.length === 0) throw new ProvenanceError(RejectReason.unsafePath, 'an entry has an empty path');
  if (path.startsWith('/') || /^[a-zA-Z]:/.test(path) || path.includes('\\'))
    throw new ProvenanceError(
      RejectReason.unsafePath,
      `entry ${JSON.stringify(path)} has an absolute or non-POSIX path`,
    );
  const parts = path.split('/');
  if (parts.some((part) => part === '..' || part === '.' || part === '') || path.includes('\0'))
    throw new ProvenanceError(
      RejectReason.unsafePath,
      `entry ${JSON.stringify(path)} has a '..', '.' or empty segment`,
    );
}

function parseTar(tar: Buffer, limits: ReadLimits): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    const files = new Map<string, Buffer>();
    let failure: unknown;
    const fail = (error: unknown) => {
      failure ??= error;
    };
    const parser = new (tarLibrary().Parser)({
      strict: true,
      onwarn: (code, message) => fail(toArchiveError(String(code), String(message))),
    });
    parser.on('entry', (entry: ReadEntry) => {
      try {
        acceptEntry(entry, files, limits);
      } catch (error) {
        fail(error);
        entry.resume();
        return;
      }
      const chunks: Buffer[] = [];
      entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      entry.on('end', () => {
        const data = Buffer.concat(chunks);
        if (data.length !== entry.size)
          fail(new ProvenanceError(RejectReason.truncatedArchive, `entry ${entry.path} is truncated`));
        files.set(entry.path, data);
      });
    });
    parser.on('error', (error: Error) =>
      fail(toArchiveError((error as NodeJS.ErrnoException).code ?? '', error.message)),
    );
    parser.on('close', () => (failure ? reject(failure) : resolve(files)));
    parser.end(tar);
  });
}

function acceptEntry(entry: ReadEntry, files: Map<string, Buffer>, limits: ReadLimits): void {
  if (entry.type === 'SymbolicLink' || entry.type === 'Link')
    throw new ProvenanceError(
      RejectReason.linkEntry,
      `entry ${JSON.stringify(entry.path)} is a ${entry.type === 'Link' ? 'hard link' : 'symbolic link'}`,
    );
  if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile')
    throw new ProvenanceError(
      RejectReason.unsupportedEntry,
      `entry ${JSON.stringify(entry.path)} is a ${entry.type}, not a regular file`,
    );
  checkPath(entry.path);
  if (files.has(entry.path))
    throw new ProvenanceError(
      RejectReason.duplicateEntry,
      `entry ${JSON.stringify(entry.path)} appears more than once`,
    );
  if (files.size >= limits.maxEntries)
    throw new ProvenanceError(
      RejectReason.oversize,
      `the archive has more than ${limits.maxEntries} entries`,
    );
  if ((entry.size ?? 0) > limits.maxEntryBytes)
    throw new ProvenanceError(
      RejectReason.oversize,
      `entry ${entry.path} is larger than ${limits.maxEntryBytes} bytes`,
    );
}

function toArchiveError(code: string, message: string): ProvenanceError {
  if (/truncat|unexpected end/i.test(message))
    return new ProvenanceError(RejectReason.truncatedArchive, `the tar stream is truncated: ${message}`);
  return new ProvenanceError(
    RejectReason.archiveMalformed,
    `the tar stream is malformed (${code}): ${message}`,
  );
}
