import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { checkpointPages, openDatabase } from './open-database.ts';

function pragma(db: ReturnType<typeof openDatabase>, name: string): unknown {
  return Object.values(db.prepare(`PRAGMA ${name}`).get() as Record<string, unknown>)[0];
}

describe('the settings each connection of the engine gets', () => {
  it.each([
    ['normal', 1],
    ['full', 2],
  ] as const)(
    'durability %s: WAL, synchronous %i, a checkpoint every 4,000 WAL pages',
    (durability, sync) => {
      const dir = mkdtempSync(join(tmpdir(), 'maestro-open-db-'));
      onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
      const db = openDatabase(dir, durability);
      onTestFinished(() => db.close());
      expect(pragma(db, 'journal_mode')).toBe('wal');
      expect(pragma(db, 'synchronous')).toBe(sync);
      // SQLite's default is 1,000: a run's commits then checkpoint (and sync) four times as often.
      expect(checkpointPages).toBe(4000);
      expect(pragma(db, 'wal_autocheckpoint')).toBe(checkpointPages);
    },
  );
});
