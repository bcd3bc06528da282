import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensurePrivateDatabaseFile, ensurePrivateDir } from './private-files.ts';

const root = mkdtempSync(join(tmpdir(), 'maestro-private-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const mode = (path: string) => statSync(path).mode & 0o777;

describe('ensurePrivateDir', () => {
  it('creates the directory and its missing parents 0700 whatever the umask', () => {
    const old = process.umask(0);
    try {
      ensurePrivateDir(join(root, 'a', 'b'));
    } finally {
      process.umask(old);
    }
    expect(mode(join(root, 'a', 'b'))).toBe(0o700);
  });

  it('tightens an existing wider directory and refuses a file', () => {
    const dir = join(root, 'wide');
    ensurePrivateDir(dir);
    chmodSync(dir, 0o755);
    ensurePrivateDir(dir);
    expect(mode(dir)).toBe(0o700);
    writeFileSync(join(root, 'file'), '');
    expect(() => ensurePrivateDir(join(root, 'file'))).toThrow(/not a directory/);
  });
});

describe('ensurePrivateDatabaseFile', () => {
  it('makes the database and the -wal and -shm files SQLite creates 0600', () => {
    const file = join(root, 'x.db');
    ensurePrivateDatabaseFile(file);
    const db = new DatabaseSync(file);
    db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (v TEXT); INSERT INTO t VALUES (1)');
    for (const f of [file, `${file}-wal`, `${file}-shm`]) expect(mode(f)).toBe(0o600);
    db.close();
  });

  it('tightens an older 0644 database and companions, keeping their content', () => {
    const file = join(root, 'old.db');
    const db = new DatabaseSync(file);
    db.exec('CREATE TABLE t (v TEXT); INSERT INTO t VALUES (42)');
    db.close();
    chmodSync(file, 0o644);
    writeFileSync(`${file}-wal`, '');
    chmodSync(`${file}-wal`, 0o644);
    ensurePrivateDatabaseFile(file);
    expect([mode(file), mode(`${file}-wal`)]).toEqual([0o600, 0o600]);
    expect(new DatabaseSync(file).prepare('SELECT v FROM t').get()).toEqual({ v: '42' });
  });

  it('creates no file for SQLite names that are not files', () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      for (const name of [':memory:', '', 'file:x.db?mode=memory']) ensurePrivateDatabaseFile(name);
    } finally {
      process.chdir(cwd);
    }
    expect(readdirSync(root)).not.toContain(':memory:');
  });

  it('refuses a symbolic link in place of the database', () => {
    symlinkSync(join(root, 'elsewhere.db'), join(root, 'link.db'));
    expect(() => ensurePrivateDatabaseFile(join(root, 'link.db'))).toThrow(
      expect.objectContaining({ code: 'database_is_link' }),
    );
  });
});
