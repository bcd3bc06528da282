import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { takeOutputsFile } from './take-outputs-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'maestro-outputs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('takeOutputsFile', () => {
  it('reads a regular file and removes it, and a missing one is no outputs', () => {
    writeFileSync(join(dir, 'ok'), 'a=1\n');
    expect(takeOutputsFile(join(dir, 'ok'))).toBe('a=1\n');
    expect(existsSync(join(dir, 'ok'))).toBe(false); // taken: no output stays at rest
    expect(takeOutputsFile(join(dir, 'absent'))).toBe('');
  });

  it('refuses a symbolic link instead of reading the file it points at', () => {
    writeFileSync(join(dir, 'host-secret'), 'TOKEN=hunter2\n');
    symlinkSync(join(dir, 'host-secret'), join(dir, 'link'));
    expect(() => takeOutputsFile(join(dir, 'link'))).toThrow(
      expect.objectContaining({ code: 'outputs_file_refused' }),
    );
    expect(existsSync(join(dir, 'link'))).toBe(false);
    expect(readFileSync(join(dir, 'host-secret'), 'utf8')).toBe('TOKEN=hunter2\n');
  });

  it('refuses a FIFO without blocking, a directory, and a file over the cap', () => {
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(() => takeOutputsFile(join(dir, 'fifo'))).toThrow(/not a regular file/);
    expect(() => takeOutputsFile(dir)).toThrow(/not a regular file/);
    writeFileSync(join(dir, 'big'), 'x'.repeat(100));
    expect(() => takeOutputsFile(join(dir, 'big'), 99)).toThrow(/larger than 99 bytes/);
    writeFileSync(join(dir, 'big'), 'x'.repeat(100));
    expect(takeOutputsFile(join(dir, 'big'), 100)).toHaveLength(100);
  });

  it('reads a file that holds more than fstat said (it grew after the check), up to the cap', () => {
    // procfs files report size 0 and still have content: the read must not stop at the stat size.
    expect(takeOutputsFile('/proc/self/status')).toMatch(/^Name:/);
    expect(() => takeOutputsFile('/proc/self/status', 10)).toThrow(/larger than 10 bytes/);
  });
});
