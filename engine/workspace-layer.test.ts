import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { layerExport, sharesInode } from './workspace-layer.ts';

function exportTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-layer-export-'));
  mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'top.txt'), 'top\n');
  writeFileSync(join(dir, 'src', 'deep', 'run.sh'), '#!/bin/sh\n');
  chmodSync(join(dir, 'src', 'deep', 'run.sh'), 0o555);
  symlinkSync('deep/run.sh', join(dir, 'src', 'link'));
  return dir;
}

describe('layerExport', () => {
  it("copies the export's folders, files (their modes too) and links into a new workspace", async () => {
    const exported = exportTree();
    const ws = join(mkdtempSync(join(tmpdir(), 'maestro-layer-ws-')), 'ws');
    expect(await layerExport(exported, ws, { mode: 'copy' })).toBe(2);
    expect(readFileSync(join(ws, 'top.txt'), 'utf8')).toBe('top\n');
    expect(lstatSync(join(ws, 'src', 'deep', 'run.sh')).mode & 0o777).toBe(0o555);
    expect(readlinkSync(join(ws, 'src', 'link'))).toBe('deep/run.sh');
    expect(sharesInode(join(ws, 'top.txt'), join(exported, 'top.txt'))).toBe(false);
    // A second workspace of the same export (its listing remembered) is as complete.
    const again = join(mkdtempSync(join(tmpdir(), 'maestro-layer-ws-')), 'ws');
    expect(await layerExport(exported, again, { mode: 'link' })).toBe(2);
    expect(sharesInode(join(again, 'src', 'deep', 'run.sh'), join(exported, 'src', 'deep', 'run.sh'))).toBe(
      true,
    );
  });

  it('fails with EEXIST on a workspace already there, touching nothing in it', async () => {
    const exported = exportTree();
    const ws = mkdtempSync(join(tmpdir(), 'maestro-layer-taken-'));
    await expect(layerExport(exported, ws, { mode: 'copy' })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(() => lstatSync(join(ws, 'top.txt'))).toThrow();
  });
});
