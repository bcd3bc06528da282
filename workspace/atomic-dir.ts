/**
 * Directories that appear whole or not at all: built under a temporary name beside their final
 * path, then renamed into place. Another process (a replica, a second `maestro run`) building the
 * same directory at the same time loses the rename and drops its copy, so a directory at the
 * final path is always complete. Used for source exports and for the mirrors they come from.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

/** A fresh name beside `target` (its parent is created), for building `target` under. */
export function temporaryBeside(target: string): string {
  mkdirSync(dirname(target), { recursive: true });
  return `${target}.tmp-${randomBytes(6).toString('hex')}`;
}

/** Renames a finished temporary directory into place; a concurrent build of the same target wins. */
export function publish(tmp: string, target: string): void {
  try {
    renameSync(tmp, target);
  } catch (error) {
    if (!existsSync(target)) throw error;
    rmSync(tmp, { recursive: true, force: true });
  }
}
