import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { readOutputsFile } from './read-outputs.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readOutputsFile', () => {
  it('reads a regular file, and a missing one as no outputs', () => {
    writeFileSync(join(dir, 'ok'), 'a=1\n');
    expect(readOutputsFile(join(dir, 'ok'))).toBe('a=1\n');
    expect(readOutputsFile(join(dir, 'absent'))).toBe('');
  });

  it('refuses a symbolic link instead of reading the file it points at', () => {
    writeFileSync(join(dir, 'host-secret'), 'TOKEN=hunter2\n');
    symlinkSync(join(dir, 'host-secret'), join(dir, 'link'));
    expect(() => readOutputsFile(join(dir, 'link'))).toThrow(
      expect.objectContaining({ code: 'outputs_file_refused' }),
    );
  });

  it('refuses a FIFO without blocking, a directory, and a file over the cap', () => {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(() => readOutputsFile(join(dir, 'fifo'))).toThrow(/not a regular file/);
    expect(() => readOutputsFile(dir)).toThrow(/not a regular file/);
    writeFileSync(join(dir, 'big'), 'x'.repeat(100));
    expect(() => readOutputsFile(join(dir, 'big'), 99)).toThrow(/larger than 99 bytes/);
    expect(readOutputsFile(join(dir, 'big'), 100)).toHaveLength(100);
  });
});
