/**
 * The engine's reading of a pod's upload (engine/upload-extract.ts): the pod is not trusted, so
 * each hostile tar is made by hand (provenance's writeTar, which can write what GNU tar would
 * refuse to) and refused as a whole, with nothing written outside the folder it extracts into.
 * The first case is a tar made by the host's GNU tar, as the sidecar makes it.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { extractUpload } from '../engine/upload-extract.ts';
import { writeTar, type TarEntryInput } from '../provenance/disclosure/tar-write.ts';
import { tempDir } from './helpers/engine-fixtures.ts';

async function* chunks(bytes: Buffer, size = 700): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function extract(tar: Buffer, declared: string[]) {
  const root = tempDir('maestro-upload-');
  const into = join(root, 'kept');
  const skipped: string[] = [];
  try {
    const result = await extractUpload(chunks(tar), declared, into, (s) =>
      skipped.push(`${s.path}:${s.kind}`),
    );
    return { root, into, skipped, result, error: undefined };
  } catch (error) {
    return { root, into, skipped, result: undefined, error: error as Error & { code?: string } };
  }
}

const file = (path: string, text: string): TarEntryInput => ({ path, data: Buffer.from(text) });

describe("the engine's reading of a pod's upload", () => {
  it('extracts a tar the sidecar makes (GNU tar) of the declared paths: files, folders, the executable bit; a symlink is not kept', async () => {
    const work = tempDir('maestro-upload-work-');
    mkdirSync(join(work, 'dist/sub'), { recursive: true });
    writeFileSync(join(work, 'dist/app'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
    writeFileSync(join(work, 'dist/sub/notes.txt'), 'notes\n');
    writeFileSync(join(work, 'report.txt'), 'ok\n');
    symlinkSync('/etc/passwd', join(work, 'dist/passwd'));
    const made = spawnSync('tar', ['-cf', '-', '--', 'dist', 'report.txt'], { cwd: work });
    expect(made.status).toBe(0);
    const got = await extract(made.stdout, ['dist', 'report.txt']);
    expect(got.error).toBeUndefined();
    expect(readFileSync(join(got.into, 'dist/app'), 'utf8')).toBe('#!/bin/sh\necho hi\n');
    expect(lstatSync(join(got.into, 'dist/app')).mode & 0o111).not.toBe(0);
    expect(lstatSync(join(got.into, 'dist/sub/notes.txt')).mode & 0o111).toBe(0);
    expect(readFileSync(join(got.into, 'report.txt'), 'utf8')).toBe('ok\n');
    expect(existsSync(join(got.into, 'dist/passwd'))).toBe(false);
    expect(got.skipped).toEqual(['dist/passwd:symlink']);
  });

  it.each([
    ['a `..` path', [file('dist/../../escaped', 'x')], "has a '..', '.' or empty segment"],
    ['a leading `..`', [file('../escaped', 'x')], "has a '..', '.' or empty segment"],
    ['an absolute path', [file('/tmp/escaped', 'x')], 'has an absolute or empty path'],
    [
      'a path the task did not declare',
      [file('dist/a', 'a'), file('.git/config', 'x')],
      'is not under a declared artifact',
    ],
    ['a declared name as a prefix only', [file('distractor/a', 'x')], 'is not under a declared artifact'],
    [
      'a hard link to a file outside the upload',
      [{ path: 'dist/passwd', type: 'Link', linkpath: 'etc/passwd' } as TarEntryInput],
      'which is not a file of this upload',
    ],
    [
      'a hard link by `..`',
      [{ path: 'dist/passwd', type: 'Link', linkpath: '../../etc/passwd' } as TarEntryInput],
      "has a '..', '.' or empty segment",
    ],
    ['a duplicate entry', [file('dist/a', 'one'), file('dist/a', 'two')], 'appears twice'],
  ])('refuses %s, and writes nothing outside its folder', async (_name, entries, message) => {
    const got = await extract(writeTar(entries), ['dist']);
    expect(got.error?.code).toBe('artifact_upload_refused');
    expect(got.error?.message).toContain(message);
    expect(readdirSync(got.root)).toEqual(['kept']);
  });

  it('never creates a symlink, so a later entry cannot write through one', async () => {
    const got = await extract(
      writeTar([
        { path: 'dist/link', type: 'SymbolicLink', linkpath: '/tmp' },
        file('dist/link/planted', 'x'),
      ]),
      ['dist'],
    );
    // The link is reported, not made; the file then lands in a real folder inside the upload.
    expect(got.skipped).toEqual(['dist/link:symlink']);
    expect(lstatSync(join(got.into, 'dist/link')).isDirectory()).toBe(true);
    expect(existsSync('/tmp/planted')).toBe(false);
  });

  it('keeps a hard link to a file of the same upload as a copy', async () => {
    const got = await extract(
      writeTar([file('dist/a', 'same'), { path: 'dist/b', type: 'Link', linkpath: 'dist/a' }]),
      ['dist'],
    );
    expect(got.error).toBeUndefined();
    expect(readFileSync(join(got.into, 'dist/b'), 'utf8')).toBe('same');
  });

  it('refuses a truncated or malformed stream', async () => {
    const whole = writeTar([file('dist/a', 'x'.repeat(3000))]);
    const cut = await extract(whole.subarray(0, 1200), ['dist']);
    expect(cut.error?.code).toBe('artifact_upload_refused');
    const junk = await extract(Buffer.from('this is not a tar archive at all'.repeat(40)), ['dist']);
    expect(junk.error?.code).toBe('artifact_upload_refused');
  });
});
