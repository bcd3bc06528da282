import { randomUUID } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

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
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A directory made by someone else, or a link to one, would let another user read bodies.
    const stat = lstatSync(dir);
    if (!stat.isDirectory()) throw new Error(`the ingress spool ${dir} is not a directory`);
    chmodSync(dir, 0o700);
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
