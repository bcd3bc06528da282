import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { claim } from './attempt-dirs.ts';

let root: string;
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('claiming an attempt directory', () => {
  it('takes a free name, and refuses one a crash left behind (workspace or inputs) without touching it', async () => {
    root = mkdtempSync(join(tmpdir(), 'attempt-dirs-'));
    expect(await claim(join(root, 'a.1'), undefined)).toBe(true);
    expect(existsSync(join(root, 'a.1'))).toBe(true);
    expect(existsSync(join(root, 'a.1.in'))).toBe(true);
    expect(await claim(join(root, 'a.1'), undefined)).toBe(false); // both exist
    mkdirSync(join(root, 'b.1'));
    writeFileSync(join(root, 'b.1', 'left'), 'x');
    expect(await claim(join(root, 'b.1'), undefined)).toBe(false); // only the workspace was left
    expect(existsSync(join(root, 'b.1.in'))).toBe(false); // its own inputs folder undone
    expect(existsSync(join(root, 'b.1', 'left'))).toBe(true);
    mkdirSync(join(root, 'c.1.in'));
    expect(await claim(join(root, 'c.1'), undefined)).toBe(false); // only the inputs were left
    expect(existsSync(join(root, 'c.1'))).toBe(false);
  });

  it('layers the source into the workspace it claims', async () => {
    root = mkdtempSync(join(tmpdir(), 'attempt-dirs-'));
    const source = join(root, 'src');
    mkdirSync(source);
    writeFileSync(join(source, 'f'), 'x');
    expect(await claim(join(root, 'w.1'), source)).toBe(true);
    expect(existsSync(join(root, 'w.1', 'f'))).toBe(true);
  });
});
