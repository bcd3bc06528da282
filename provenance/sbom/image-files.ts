/**
 * Reads the files an image's SBOM is made from out of a local Podman image: `podman create`
 * (the container is never started), `podman export` streamed through a FIFO into a tar parser
 * that keeps only the package databases and npm `package.json` files, then `podman rm`. Nothing
 * of the image is written to disk, and nothing in the image runs.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, constants, createReadStream, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ReadEntry } from 'tar';
import { tarLibrary } from '../libraries.ts';
import type { ImageFiles } from './image-sbom.ts';
import { SbomError, SbomReason } from './sbom-errors.ts';

const run = promisify(execFile);
/** A package database or a package.json larger than this is not one. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const NPM_PACKAGE = /(^|\/)node_modules\/(@[^/]+\/)?[^/@][^/]*\/package\.json$/;

type Kind = 'dpkgStatus' | 'apkInstalled' | 'osRelease' | 'npm';

function kindOf(path: string): Kind | undefined {
  const p = path.replace(/^\.?\//, '');
  if (p === 'var/lib/dpkg/status') return 'dpkgStatus';
  if (p === 'lib/apk/db/installed') return 'apkInstalled';
  if (p === 'etc/os-release' || p === 'usr/lib/os-release') return 'osRelease';
  if (NPM_PACKAGE.test(p)) return 'npm';
  return undefined;
}

function readEntry(entry: ReadEntry): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    entry.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_FILE_BYTES) chunks.push(chunk);
    });
    entry.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    entry.on('error', reject);
  });
}

/** A FIFO's reader waits in open() until a writer comes: be that writer when Podman never came. */
function unblockReader(fifo: string): void {
  try {
    closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
  } catch {
    // no reader waiting: nothing to unblock
  }
}

/** Streams `podman export <container>` and collects the files the SBOM reads. */
function collect(podman: string, container: string, fifo: string): Promise<ImageFiles> {
  const files: ImageFiles = { packageJsons: [] };
  const reads: Promise<void>[] = [];
  return new Promise((resolve, reject) => {
    const parser = new (tarLibrary().Parser)({
      onReadEntry: (entry: ReadEntry) => {
        const kind = entry.type === 'File' ? kindOf(entry.path) : undefined;
        if (!kind || entry.size > MAX_FILE_BYTES) return entry.resume();
        reads.push(
          readEntry(entry).then((text) => {
            if (kind === 'npm') files.packageJsons.push({ path: entry.path, text });
            // usr/lib/os-release is the target etc/os-release usually links to: either will do.
            else files[kind] ??= text;
          }),
        );
      },
    });
    const ended = new Promise<void>((done, fail) => {
      parser.on('end', () => done());
      parser.on('error', fail);
    });
    // Through a FIFO, not a pipe on stdout: Podman opens /dev/stdout itself, which fails on the
    // socket Node gives a child (ENXIO), and a FIFO keeps the image's filesystem off the disk.
    const child = spawn(podman, ['export', '-o', fifo, container], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    createReadStream(fifo).on('error', reject).pipe(parser);
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        unblockReader(fifo);
        return reject(new Error(`podman export exited ${code}: ${stderr.trim()}`));
      }
      ended
        .then(() => Promise.all(reads))
        .then(() => {
          files.packageJsons.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
          resolve(files);
        }, reject);
    });
  });
}

/** The SBOM's files from a local image (a name Podman knows, or its id). */
export async function readImageFiles(image: string, podman = 'podman'): Promise<ImageFiles> {
  let container: string;
  try {
    container = (await run(podman, ['create', '--pull=never', image, 'true'])).stdout.trim();
  } catch (cause) {
    throw new SbomError(SbomReason.imageUnreadable, `Podman cannot create a container from ${image}`, {
      cause,
      hint: 'build or pull the image first (`podman images` lists what Podman has)',
    });
  }
  const dir = await mkdtemp(join(tmpdir(), 'maestro-sbom-'));
  try {
    await run('mkfifo', ['-m', '0600', join(dir, 'export')]);
    return await collect(podman, container, join(dir, 'export'));
  } catch (cause) {
    throw new SbomError(
      SbomReason.imageUnreadable,
      `cannot read the files of ${image}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  } finally {
    await run(podman, ['rm', '-f', container]).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}
