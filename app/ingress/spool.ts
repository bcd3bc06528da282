import { randomUUID } from 'node:crypto';
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ensurePrivateDir, InputError } from '../../core/index.ts';

/** A body being written to disk: its file, private to this process's user. */
export interface SpoolFile {
  path: string;
  handle: FileHandle;
}

/**
 * The directory where request bodies larger than the in-memory size are written while they
 * arrive: 0700, under the data dir, emptied when ingress starts (a body left by a crash was never
 * answered, so GitHub will redeliver it). Only webhook bodies live here: nothing else reads it.
 */
export class Spool {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    ensurePrivateDir(dir);
    // A link to a directory elsewhere would put bodies where other users may read them.
    if (!lstatSync(dir).isDirectory())
      throw new InputError('spool_not_directory', `the ingress spool ${dir} is not a directory`, {
        hint: 'remove it; the app creates the directory itself (0700) under the data dir',
      });
    for (const name of readdirSync(dir)) rmSync(join(dir, name), { force: true, recursive: true });
  }

  /** A new, empty file (0600; `wx`: never an existing file or a planted link). */
  async create(): Promise<SpoolFile> {
    const path = join(this.dir, `${randomUUID()}.body`);
    return { path, handle: await open(path, 'wx', 0o600) };
  }

  /** Closes and deletes a spool file; safe to call twice. */
  async remove(file: SpoolFile): Promise<void> {
    await file.handle.close().catch(() => {});
    rmSync(file.path, { force: true });
  }
}
