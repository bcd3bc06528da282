import { closeSync, constants, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { InputError } from '../../core/index.ts';

/** Outputs are small values; a larger file is refused rather than read into memory whole. */
export const MAX_OUTPUTS_BYTES = 1 << 20;

/**
 * Reads a task's outputs file and removes it: the values are the engine's now (it redacts and
 * stores them), and a secret a task wrote as an output must not stay at rest in the attempt's
 * directory. The task itself wrote that file and could have replaced it. The engine
 * reads it with its own rights, so it is opened without following a symbolic link (O_NOFOLLOW:
 * a link to /etc/shadow, the signing key or secrets.env is refused, not read back as "outputs"),
 * non-blocking (a FIFO cannot hang the runner), and must be a regular file of bounded size. A
 * missing file means no outputs. Anything else throws `outputs_file_refused` (the task's fault).
 */
export function takeOutputsFile(path: string, maxBytes = MAX_OUTPUTS_BYTES): string {
  return takeTaskFile(path, maxBytes, OUTPUTS_FILE);
}

/** Which file a refusal is about: its error code, what it is called, and how to write it right. */
export interface TaskFileKind {
  code: string;
  what: string;
  hint: string;
}

const OUTPUTS_FILE: TaskFileKind = {
  code: 'outputs_file_refused',
  what: "the task's outputs file",
  hint: 'write outputs as key=value lines into the file $MAESTRO_OUTPUT names; do not replace it',
};

/**
 * The same read-once, no-links, bounded read for any file the task writes for the engine (the
 * outputs file, the messages file): one implementation of the defence, not two.
 */
export function takeTaskFile(path: string, maxBytes: number, kind: TaskFileKind): string {
  try {
    return readRegularFile(path, maxBytes, kind);
  } finally {
    removeQuietly(path);
  }
}

/** unlink removes a link itself, never what it points at; a directory in its place stays. */
function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or not a file: nothing of ours to remove
  }
}

function readRegularFile(path: string, maxBytes: number, kind: TaskFileKind): string {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return '';
    throw refused(
      kind,
      code === 'ELOOP' ? 'is a symbolic link' : `cannot be opened (${code ?? 'error'})`,
      error,
    );
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw refused(kind, 'is not a regular file');
    if (stat.size > maxBytes) throw refused(kind, `is larger than ${maxBytes} bytes`);
    // Sized from fstat (one byte more, to see growth), not from the cap: a buffer of the cap
    // (8 MiB for the messages file) zero-filled for every attempt was most of the server's
    // garbage collection at 50 runs/s (bench/scheduler). A file that grows after fstat (a
    // process the task left behind, or /proc) is followed up to the cap.
    let buffer = Buffer.alloc(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (;;) {
      if (length === buffer.length) {
        if (length > maxBytes) break;
        const grown = Buffer.alloc(Math.min(maxBytes + 1, Math.max(4096, buffer.length * 2)));
        buffer.copy(grown, 0, 0, length);
        buffer = grown;
      }
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
    }
    if (length > maxBytes) throw refused(kind, `is larger than ${maxBytes} bytes`);
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

function refused(kind: TaskFileKind, why: string, cause?: unknown): InputError {
  return new InputError(kind.code, `${kind.what} ${why}; it was not read`, {
    hint: kind.hint,
    ...(cause === undefined ? {} : { cause }),
  });
}
