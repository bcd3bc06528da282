import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, constants, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';

/** Where the launcher's C source lives; its content hash names the cached binary. */
export const LAUNCHER_SOURCE = join(import.meta.dirname, 'launcher', 'launcher.c');

export type LauncherBuild = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Returns the launcher binary for the current source, compiling it with the system C compiler on
 * first use into `cacheDir` (a content-addressed name, so an edited source never runs stale and
 * concurrent builders cannot clash: each writes a temporary file and renames it into place).
 */
export async function ensureLauncherBinary(cacheDir: string, cc = 'cc'): Promise<LauncherBuild> {
  if (endianness() !== 'LE')
    return { ok: false, reason: 'the launcher protocol assumes a little-endian host' };
  if (process.platform !== 'linux')
    return { ok: false, reason: `the launcher is Linux-only, not ${process.platform}` };
  let source: Buffer;
  try {
    source = await readFile(LAUNCHER_SOURCE);
  } catch (error) {
    return { ok: false, reason: `cannot read ${LAUNCHER_SOURCE}: ${(error as Error).message}` };
  }
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  const path = join(cacheDir, `maestro-launcher-${digest}`);
  try {
    await access(path, constants.X_OK);
    return { ok: true, path };
  } catch {
    // not built yet
  }
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await mkdir(cacheDir, { recursive: true });
    await new Promise<void>((resolve, reject) =>
      execFile(cc, ['-O2', '-o', tmp, LAUNCHER_SOURCE], { timeout: 60_000 }, (error, _out, stderr) =>
        error ? reject(new Error(`${cc} failed: ${stderr.trim() || error.message}`)) : resolve(),
      ),
    );
    await rename(tmp, path);
    return { ok: true, path };
  } catch (error) {
    await rm(tmp, { force: true });
    return { ok: false, reason: (error as Error).message };
  }
}
